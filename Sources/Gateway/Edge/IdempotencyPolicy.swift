import Metrics
import NIOCore

/// Idempotency keys on POST and PATCH: one execution per key, principal, method and route.
/// A completed key is replayed; a key in flight is 409 with `Retry-After`; the upstream's answer
/// is stored before the client gets it; a key whose upstream was never reached (or answered 503)
/// is given back for the retry.
struct IdempotencyPolicy: EdgePolicy {
    let store: IdempotencyStore
    let route: String
    let required: Bool
    let lease: Duration
    /// The counters of every request that carries a key, made once.
    private let claimedCounter, replayedCounter: Metrics.Counter

    init(store: IdempotencyStore, route: String, required: Bool, lease: Duration) {
        self.store = store
        self.route = route
        self.required = required
        self.lease = lease
        self.claimedCounter = GatewayMetrics.idempotencyCounter(route: route, "claimed")
        self.replayedCounter = GatewayMetrics.idempotencyCounter(route: route, "replayed")
    }

    var readsBody: Bool { true }

    var overlapsLaterPolicies: Bool { true }

    func admit(_ exchange: EdgeExchange) -> EdgeVerdict {
        let method = exchange.head.method
        guard method == .POST || method == .PATCH else { return .proceed }
        let key: String?
        do {
            key = try IdempotencyStore.key(from: exchange.head.headers.first(name: "idempotency-key"))
        } catch {
            GatewayMetrics.idempotency(route: route, error.outcome)
            return .reject(error)
        }
        guard let key else {
            guard required else { return .proceed }
            GatewayMetrics.idempotency(route: route, IdempotencyError.missingKey.outcome)
            return .reject(IdempotencyError.missingKey)
        }
        let principal = exchange.identity?.principal ?? "ip:\(exchange.clientAddress)"
        let loop = exchange.eventLoop
        let claimed = store.claim(
            key: key, principal: principal, method: method.rawValue, route: route, path: exchange.head.uri,
            body: exchange.body, lease: lease, on: loop
        )
        return .pending(claimed.assumeIsolated().map { claim -> EdgeVerdict in
            switch claim {
            case .replay(let response):
                self.replayedCounter.increment()
                return .respond(response)
            case .claimed(let ticket):
                self.claimedCounter.increment()
                exchange.collectsResponse = true
                exchange.onSettle { outcome in self.settle(ticket, outcome, on: loop) }
                return .proceed
            }
        }.flatMapErrorThrowing { error in
            if let error = error as? IdempotencyError { GatewayMetrics.idempotency(route: self.route, error.outcome) }
            throw error
        }.nonisolated())
    }

    private func settle(_ ticket: IdempotencyTicket, _ outcome: EdgeOutcome, on loop: any EventLoop) -> EventLoopFuture<Void>? {
        switch outcome {
        case .answered(let status, _, _) where status == .serviceUnavailable:
            // The upstream did nothing and asks for a retry: the key is freed for it, not replayed as a 503.
            return store.release(ticket, on: loop)
        case .answered(let status, let headers, let body?):
            return store.complete(ticket, status: Int(status.code), headers: headers, body: body, on: loop)
        case .answered, .refused, .unreachable:
            return store.release(ticket, on: loop)
        case .failed:
            return nil
        }
    }
}
