import NIOCore
import Synchronization

/// Tokens of fleet-wide rate limits that Redis leased to this gateway: a rule with a `lease`
/// above 1 takes that many tokens per script call (the request's own and the rest, as far as the
/// bucket holds them), and the gateway hands the rest out itself, without a Redis call, for
/// ``lifetime`` at most. One refill per subject is in flight at a time: requests arriving while
/// it is wait for it rather than each asking Redis (and each leasing) again.
///
/// What it costs in exactness: a leased token is charged in Redis when it is taken, so the fleet
/// never admits more than Redis granted; it is handed out at most ``lifetime`` after Redis
/// granted it, so over any window `W` a subject gets at most `burst + (W + lifetime) / interval`
/// requests through — the lifetime's worth of refill more than an exact limit. Tokens not handed
/// out in time are lost: the subject is admitted less, never more (at most `lease − 1` per
/// gateway per lifetime). A request's rules lease only when every fleet rule of it does; with
/// several rules a lease holds the fewest tokens any of them granted.
final class RateLimitLeases: Sendable {
    /// How long a leased token may be handed out after Redis granted it, by default.
    static let defaultLifetime: Duration = .milliseconds(50)
    /// Subjects held at most (expired ones are dropped when it is reached, then new ones are not kept).
    static let maximumLeases = 100_000

    /// What ``take(_:on:mayWait:)`` found.
    enum Taken {
        /// A token of the lease: the request is admitted; per rule, what is left and the reset.
        case granted([(remaining: Int, reset: Int)?])
        /// A refill is under way: try again once it completes.
        case wait(EventLoopFuture<Void>)
        /// Ask Redis; when a promise is given, this request refills the lease and must hand
        /// the result to ``refilled(_:tokens:states:promise:)`` whatever it is.
        case ask(refill: EventLoopPromise<Void>?)
    }

    private struct Lease {
        var tokens = 0
        var expires = ContinuousClock.Instant.now
        /// Per rule, what Redis had left when it granted the lease, and seconds until full.
        var states: [(remaining: Int, reset: Int)?] = []
        var refill: EventLoopFuture<Void>?
    }

    private let leases = Mutex<[String: Lease]>([:])
    /// How long a leased token may be handed out after Redis granted it.
    let lifetime: Duration

    init(lifetime: Duration = defaultLifetime) {
        self.lifetime = lifetime
    }

    /// A token of the lease of `subject` (the request's bucket keys, joined) when one is held in
    /// time; otherwise the refill to wait for (when `mayWait`) or the duty to ask Redis.
    func take(_ subject: String, on eventLoop: any EventLoop, mayWait: Bool = true) -> Taken {
        let now = ContinuousClock.now
        return leases.withLock { leases in
            if var lease = leases[subject] {
                if lease.tokens > 0, lease.expires > now {
                    lease.tokens -= 1
                    leases[subject] = lease
                    return .granted(lease.states.map { $0.map { (remaining: $0.remaining + lease.tokens, reset: $0.reset) } })
                }
                if let refill = lease.refill { return mayWait ? .wait(refill) : .ask(refill: nil) }
            } else if leases.count >= Self.maximumLeases {
                leases = leases.filter { $0.value.expires > now || $0.value.refill != nil }
                if leases.count >= Self.maximumLeases { return .ask(refill: nil) }
            }
            let promise = eventLoop.makePromise(of: Void.self)
            leases[subject, default: Lease()].refill = promise.futureResult
            leases[subject]?.tokens = 0
            return .ask(refill: promise)
        }
    }

    /// The refill's outcome: `tokens` leased beyond the refilling request (0 when Redis denied
    /// it or did not answer), with Redis's `states`; waiting requests are woken.
    func refilled(_ subject: String, tokens: Int, states: [(remaining: Int, reset: Int)?], promise: EventLoopPromise<Void>) {
        let now = ContinuousClock.now
        leases.withLock { leases in
            guard tokens > 0 else {
                leases[subject] = nil
                return
            }
            leases[subject] = Lease(tokens: tokens, expires: now + lifetime, states: states, refill: nil)
        }
        promise.succeed()
    }

    /// Tokens of `subject` still held in time (for tests and diagnostics).
    func tokens(of subject: String) -> Int {
        let now = ContinuousClock.now
        return leases.withLock { leases in leases[subject].map { $0.expires > now ? $0.tokens : 0 } ?? 0 }
    }
}
