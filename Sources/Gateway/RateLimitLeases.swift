import NIOCore
import Synchronization

/// Tokens of fleet-wide rate limits that Redis leased to this gateway: a rule with a `lease`
/// above 1 takes that many tokens per script call (the request's own and the rest, as far as the
/// bucket holds them), and the gateway hands the rest out itself, without a Redis call, for
/// ``lifetime`` at most.
///
/// Refills start ahead: once a subject's tokens fall to a quarter of its last lease, the next
/// request asks Redis for the next lease while the requests that come meanwhile take the tokens
/// still held, so a busy subject does not stall for a Redis round trip every lease. One refill
/// per subject is in flight at a time: requests that find no token held while it is wait for it
/// rather than each asking Redis (and each leasing) again. At most two leases are held per
/// subject, each with its own expiry. A refill that brings nothing (Redis denied it or did not
/// answer) leaves the tokens still held to be handed out before Redis is asked again.
///
/// What it costs in exactness: a leased token is charged in Redis when it is taken, so the fleet
/// never admits more than Redis granted; it is handed out at most ``lifetime`` after Redis
/// granted it, so over any window `W` a subject gets at most `burst + (W + lifetime) / interval`
/// requests through — the lifetime's worth of refill more than an exact limit. Tokens not handed
/// out in time are lost: the subject is admitted less, never more (at most `2 × (lease − 1)` per
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
        /// A refill is under way and no token is held: try again once it completes.
        case wait(EventLoopFuture<Void>)
        /// Ask Redis; when a promise is given, this request refills the lease and must hand
        /// the result to ``refilled(_:tokens:states:promise:)`` whatever it is.
        case ask(refill: EventLoopPromise<Void>?)
    }

    /// Tokens Redis granted at once, to be handed out before `expires`.
    private struct Batch {
        var tokens: Int
        var expires: ContinuousClock.Instant
    }

    private struct Lease {
        var current: Batch?
        /// A lease granted while tokens of `current` were still held: handed out after them.
        var next: Batch?
        /// Tokens of the last lease granted: a refill starts ahead once a quarter of that is left.
        var size = 0
        /// Per rule, what Redis had left when it granted the last lease, and seconds until full.
        var states: [(remaining: Int, reset: Int)?] = []
        var refill: EventLoopFuture<Void>?
        /// Whether the last refill brought nothing (Redis denied it or did not answer): the
        /// tokens still held are handed out before Redis is asked again.
        var dry = false

        /// Tokens held in time, `next` moved up once `current` is spent or expired.
        mutating func held(at now: ContinuousClock.Instant) -> Int {
            if let next, next.expires <= now { self.next = nil }
            if let current, current.tokens == 0 || current.expires <= now {
                self.current = next
                next = nil
            }
            return (current?.tokens ?? 0) + (next?.tokens ?? 0)
        }

        /// Whether any token is held in time.
        func holds(at now: ContinuousClock.Instant) -> Bool {
            func holds(_ batch: Batch?) -> Bool { batch.map { $0.tokens > 0 && $0.expires > now } ?? false }
            return holds(current) || holds(next)
        }

        /// Takes a held token (``held(at:)`` first); per rule, what is left counting the tokens still held.
        mutating func take() -> [(remaining: Int, reset: Int)?] {
            current?.tokens -= 1
            let held = (current?.tokens ?? 0) + (next?.tokens ?? 0)
            return states.map { $0.map { (remaining: $0.remaining + held, reset: $0.reset) } }
        }

        /// Whether the next lease should be asked for now: few tokens left and none on the way.
        func isLow(held: Int) -> Bool {
            !dry && refill == nil && next == nil && held <= max(1, size / 4)
        }
    }

    private let leases = Mutex<[String: Lease]>([:])
    /// How long a leased token may be handed out after Redis granted it.
    let lifetime: Duration

    init(lifetime: Duration = defaultLifetime) {
        self.lifetime = lifetime
    }

    /// A token of the lease of `subject` (the request's bucket keys, joined) when one is held in
    /// time and the lease is not running low; otherwise the refill to wait for (when `mayWait`)
    /// or the duty to ask Redis.
    func take(_ subject: String, on eventLoop: any EventLoop, mayWait: Bool = true) -> Taken {
        let now = ContinuousClock.now
        return leases.withLock { leases in
            if let index = leases.index(forKey: subject) {
                let held = leases.values[index].held(at: now)
                if held > 0, !leases.values[index].isLow(held: held) {
                    return .granted(leases.values[index].take())
                }
                if held == 0, let refill = leases.values[index].refill { return mayWait ? .wait(refill) : .ask(refill: nil) }
            } else if leases.count >= Self.maximumLeases {
                leases = leases.filter { $0.value.refill != nil || $0.value.holds(at: now) }
                if leases.count >= Self.maximumLeases { return .ask(refill: nil) }
            }
            let promise = eventLoop.makePromise(of: Void.self)
            leases[subject, default: Lease()].refill = promise.futureResult
            return .ask(refill: promise)
        }
    }

    /// A token of the tokens still held for `subject`, never asking Redis: for a refill Redis
    /// denied (the bucket is empty, but what was leased before is the subject's to spend).
    func takeHeld(_ subject: String) -> [(remaining: Int, reset: Int)?]? {
        let now = ContinuousClock.now
        return leases.withLock { leases in
            guard let index = leases.index(forKey: subject), leases.values[index].held(at: now) > 0 else { return nil }
            return leases.values[index].take()
        }
    }

    /// The refill's outcome: `tokens` leased beyond the refilling request (0 when Redis denied
    /// it or did not answer), with Redis's `states`; waiting requests are woken. Returns the
    /// tokens now held for `subject`, the new lease and what was left of the last one.
    @discardableResult
    func refilled(_ subject: String, tokens: Int, states: [(remaining: Int, reset: Int)?], promise: EventLoopPromise<Void>) -> Int {
        let now = ContinuousClock.now
        let held = leases.withLock { leases in
            var lease = leases[subject] ?? Lease()
            lease.refill = nil
            var held = lease.held(at: now)
            if tokens > 0 {
                let batch = Batch(tokens: tokens, expires: now + lifetime)
                if held > 0 { lease.next = batch } else { lease.current = batch }
                lease.size = tokens
                lease.states = states
                held += tokens
            }
            lease.dry = tokens == 0
            leases[subject] = held > 0 ? lease : nil
            return held
        }
        promise.succeed()
        return held
    }

    /// Tokens of `subject` still held in time (for tests and diagnostics).
    func tokens(of subject: String) -> Int {
        let now = ContinuousClock.now
        return leases.withLock { leases in
            guard let index = leases.index(forKey: subject) else { return 0 }
            return leases.values[index].held(at: now)
        }
    }
}
