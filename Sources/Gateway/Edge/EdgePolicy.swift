import NIOCore
import NIOHTTP1

/// One step of a proxied route's policy chain (access token, body size, rate limits, queue pass,
/// idempotency key, …). A policy owns its configuration and its errors; it checks the exchange
/// on the exchange's event loop and, when it takes something that must be given back or made
/// final (a claimed key, a spent pass), registers that with ``EdgeExchange/onSettle(_:)``.
///
/// Adding a policy is one new type and one line in ``EdgeCore/policies(for:components:)``.
protocol EdgePolicy: Sendable {
    /// Whether the policy reads the request body: the chain waits for the whole body first.
    var readsBody: Bool { get }

    /// Whether later policies may start while this one's verdict is pending: true when it leaves
    /// nothing on the exchange that they read (the identity does not qualify). Their Redis
    /// commands then leave in the same flush as its own; verdicts still apply in chain order, and
    /// a later policy's claim is given back when an earlier one refuses.
    var overlapsLaterPolicies: Bool { get }

    /// Checks the request; called on the exchange's event loop.
    func admit(_ exchange: EdgeExchange) -> EdgeVerdict
}

extension EdgePolicy {
    var readsBody: Bool { false }
    var overlapsLaterPolicies: Bool { false }
}

/// What a policy decided.
enum EdgeVerdict: Sendable {
    /// On to the next policy, then the upstream.
    case proceed
    /// Refused: the error becomes the response (its problem), and earlier policies unwind.
    case reject(any Error)
    /// Answered by the gateway itself (an idempotent replay); earlier policies unwind.
    case respond(EdgeResponse)
    /// Decided later, on the exchange's event loop (a Redis reply, a signature check).
    case pending(EventLoopFuture<EdgeVerdict>)
}

/// How an exchange ended, as each policy's settlement sees it.
enum EdgeOutcome {
    /// The gateway refused or answered the request itself: the upstream was never called.
    case refused
    /// No upstream could be reached: nothing was sent.
    case unreachable
    /// The upstream was called and failed (timeout, broken answer): it may have acted.
    case failed
    /// The upstream answered; `body` is the whole body when the exchange collected it.
    case answered(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?)
}
