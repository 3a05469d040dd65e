import NIOCore
import NIOHTTP1
import Queue

/// The queue pass (403 without a valid one) on routes that name an event, while the event's
/// room holds people back; a single-use pass is claimed here, then spent on a 2xx or given back.
struct QueuePassCheck: EdgePolicy {
    let enforcer: PassEnforcer
    let policy: QueuePassPolicy

    var readsBody: Bool { policy.eventFrom.hasPrefix("body:") }

    func admit(_ exchange: EdgeExchange) -> EdgeVerdict {
        guard policy.guards(method: exchange.head.method.rawValue) else { return .proceed }
        let found = PassEnforcer.event(
            for: policy, uri: exchange.head.uri, headers: exchange.head.headers, body: readsBody ? exchange.body : nil
        )
        guard let event = found, QueueKeys.isValidEvent(event) else { return .reject(QueueError.invalidEvent(found ?? "")) }
        let loop = exchange.eventLoop
        let enforcer = self.enforcer
        let singleUse = policy.singleUse
        let checked = enforcer.requiresPass(event: event, on: loop).assumeIsolated().flatMap { required -> EventLoopFuture<EdgeVerdict> in
            guard required else { return loop.makeSucceededFuture(.proceed) }
            let verified = enforcer.verify(headers: exchange.head.headers, event: event, on: loop)
            guard singleUse else { return verified.map { _ in .proceed } }
            return verified.flatMap { enforcer.claim($0, on: loop) }.assumeIsolated().map { spend -> EdgeVerdict in
                exchange.onSettle { outcome in
                    if case .answered(let status, _, _) = outcome, (200..<300).contains(status.code) {
                        return enforcer.confirm(spend, on: loop)
                    }
                    return enforcer.release(spend, on: loop)
                }
                return .proceed
            }.nonisolated()
        }
        return .pending(checked.nonisolated())
    }
}
