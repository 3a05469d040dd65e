import NIOCore
import NIOHTTP1
import Queue

/// The queue pass (403 without a valid one) on routes that name an event, while the event's
/// room holds people back. The pass must serve its visitor and its admission must still stand;
/// a single-use pass is claimed here, then spent on a 2xx or given back. Where the room is
/// gone, a pass presented anyway is refused (its admission ended with the room).
struct QueuePassCheck: EdgePolicy {
    let enforcer: PassEnforcer
    let policy: QueuePassPolicy
    /// Where the event is, parsed once from the policy.
    let source: PassEventSource?

    init(enforcer: PassEnforcer, policy: QueuePassPolicy) {
        self.enforcer = enforcer
        self.policy = policy
        self.source = PassEventSource(policy.eventFrom)
    }

    var readsBody: Bool { source?.readsBody ?? false }

    var overlapsLaterPolicies: Bool { true }

    func admit(_ exchange: EdgeExchange) -> EdgeVerdict {
        guard policy.guards(method: exchange.head.method.rawValue) else { return .proceed }
        let found: String?
        do {
            found = try source?.event(uri: exchange.head.uri, headers: exchange.head.headers, body: readsBody ? exchange.body : nil)
        } catch {
            return .reject(error)
        }
        guard let event = found, QueueKeys.isValidEvent(event) else { return .reject(QueueError.invalidEvent(found ?? "")) }
        let loop = exchange.eventLoop
        let enforcer = self.enforcer
        let singleUse = policy.singleUse
        let presented = PassEnforcer.presentedPass(exchange.head.headers, event: event)
        if !singleUse, enforcer.admitsFromCache(presented, event: event, requester: requester(exchange), on: loop) { return .proceed }
        let checked = enforcer.guards.lookup(event: event, on: loop).assumeIsolated().flatMap { roomGuard -> EventLoopFuture<EdgeVerdict> in
            switch roomGuard {
            case .open:
                return loop.makeSucceededFuture(.proceed)
            case .absent:
                guard let presented else { return loop.makeSucceededFuture(.proceed) }
                return checkPass(presented, event: event, singleUse: false, exchange).recover { error in
                    if let rejection = error as? QueuePassRejection, case .revoked = rejection.reason { return .reject(rejection) }
                    return .proceed
                }
            case .guarded:
                guard let presented else { return loop.makeSucceededFuture(.reject(QueuePassRejection(nil))) }
                return checkPass(presented, event: event, singleUse: singleUse, exchange)
            }
        }
        return .pending(checked.nonisolated())
    }

    private func requester(_ exchange: EdgeExchange) -> PassRequester {
        PassRequester(
            account: exchange.identity?.principal,
            ticketVisitor: exchange.identity == nil ? enforcer.ticketVisitor(exchange.head.headers) : nil
        )
    }

    private func checkPass(_ token: String, event: String, singleUse: Bool, _ exchange: EdgeExchange) -> EventLoopFuture<EdgeVerdict> {
        let loop = exchange.eventLoop
        let enforcer = self.enforcer
        let requester = requester(exchange)
        return enforcer.verify(token, event: event, on: loop)
            .flatMap { enforcer.check($0, requester: requester, singleUse: singleUse, on: loop) }
            .assumeIsolated()
            .map { spend -> EdgeVerdict in
                if let spend {
                    exchange.onSettle { outcome in
                        if case .answered(let status, _, _) = outcome, (200..<300).contains(status.code) {
                            return enforcer.confirm(spend, on: loop)
                        }
                        return enforcer.release(spend, on: loop)
                    }
                }
                return .proceed
            }
            .nonisolated()
    }
}
