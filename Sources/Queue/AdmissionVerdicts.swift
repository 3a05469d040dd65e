import Synchronization

/// Recent "this admission stands" answers from Redis, so that a visitor's burst of requests with
/// the same pass costs one pass check per second instead of one per request.
///
/// Only plain (not single-use) passes are remembered, for at most ``lifetime`` and never past
/// the pass's expiry, keyed by the requester the check bound, so a pass still serves only its
/// visitor. Leaving or deleting the room through this gateway forgets at once; a revocation made
/// through another gateway reaches this one within ``lifetime``.
public final class AdmissionVerdicts: Sendable {
    /// How long an answer is trusted.
    public static let lifetime = Duration.seconds(1)
    /// Most answers held; beyond it expired ones are dropped, then nothing new is kept.
    public static let capacity = 200_000

    private struct State {
        /// event → visitor → (admission and binding) → trusted until.
        var events: [String: [String: [String: ContinuousClock.Instant]]] = [:]
        var count = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether Redis confirmed `admission` for `visitor`, bound to `requester`, less than ``lifetime`` ago.
    public func stands(event: String, visitor: String, admission: String, requester: String) -> Bool {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let until = state.events[event]?[visitor]?[Self.key(admission, requester)] else { return false }
            return until > now
        }
    }

    /// Remembers Redis's confirmation until `expiresIn` from now or ``lifetime``, whichever is sooner.
    public func confirm(event: String, visitor: String, admission: String, requester: String, expiresIn: Duration) {
        let lifetime = min(Self.lifetime, expiresIn)
        guard lifetime > .zero else { return }
        let now = ContinuousClock.now
        state.withLock { state in
            if state.count >= Self.capacity { Self.dropExpired(&state, now: now) }
            guard state.count < Self.capacity else { return }
            let key = Self.key(admission, requester)
            if state.events[event, default: [:]][visitor, default: [:]].updateValue(now + lifetime, forKey: key) == nil {
                state.count += 1
            }
        }
    }

    /// Forgets everything about `visitor`'s admissions (they left or were removed).
    public func forget(event: String, visitor: String) {
        state.withLock { state in
            guard let removed = state.events[event]?.removeValue(forKey: visitor) else { return }
            state.count -= removed.count
        }
    }

    /// Forgets every admission of the event's room (it was deleted).
    public func forget(event: String) {
        state.withLock { state in
            guard let removed = state.events.removeValue(forKey: event) else { return }
            state.count -= removed.values.reduce(0) { $0 + $1.count }
        }
    }

    private static func key(_ admission: String, _ requester: String) -> String {
        admission + "|" + requester
    }

    private static func dropExpired(_ state: inout State, now: ContinuousClock.Instant) {
        var count = 0
        state.events = state.events.compactMapValues { visitors in
            let kept = visitors.compactMapValues { answers in
                let live = answers.filter { $0.value > now }
                return live.isEmpty ? nil : live
            }
            count += kept.values.reduce(0) { $0 + $1.count }
            return kept.isEmpty ? nil : kept
        }
        state.count = count
    }
}
