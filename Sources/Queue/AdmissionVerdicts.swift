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
    /// How long before an answer ends the next check is due: the request that finds it due asks
    /// Redis again in the background while the answer still serves, so a visitor's steady
    /// requests never all fall through to Redis when it ends.
    public static let refreshAhead = Duration.milliseconds(250)

    /// What is known of an admission, for one request.
    public enum Standing: Sendable, Equatable {
        /// Nothing young enough: ask Redis.
        case unknown
        /// Redis confirmed it less than ``lifetime`` ago.
        case stands
        /// It stands, and its next check is due: this caller (the only one told) asks Redis anew.
        case standsCheckDue
    }

    private struct Answer {
        var until: ContinuousClock.Instant
        var checking = false
    }

    /// An admission and the binding it was checked with (two strings, not one joined per lookup).
    private struct AnswerKey: Hashable {
        var admission: String
        var requester: String
    }

    private struct State {
        /// event → visitor → (admission and binding) → the answer.
        var events: [String: [String: [AnswerKey: Answer]]] = [:]
        var count = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether Redis confirmed `admission` for `visitor`, bound to `requester`, less than ``lifetime`` ago.
    public func stands(event: String, visitor: String, admission: String, requester: String) -> Bool {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let answer = state.events[event]?[visitor]?[AnswerKey(admission: admission, requester: requester)] else { return false }
            return answer.until > now
        }
    }

    /// Whether the admission stands, as ``stands(event:visitor:admission:requester:)`` says, and
    /// whether this caller is the one to check it anew (once per answer, within ``refreshAhead`` of its end).
    public func standing(event: String, visitor: String, admission: String, requester: String) -> Standing {
        let now = ContinuousClock.now
        let key = AnswerKey(admission: admission, requester: requester)
        return state.withLock { state in
            guard let answer = state.events[event]?[visitor]?[key], answer.until > now else { return .unknown }
            guard answer.until - now <= Self.refreshAhead, !answer.checking else { return .stands }
            state.events[event]?[visitor]?[key]?.checking = true
            return .standsCheckDue
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
            let key = AnswerKey(admission: admission, requester: requester)
            if state.events[event, default: [:]][visitor, default: [:]].updateValue(Answer(until: now + lifetime), forKey: key) == nil {
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

    private static func dropExpired(_ state: inout State, now: ContinuousClock.Instant) {
        var count = 0
        state.events = state.events.compactMapValues { visitors in
            let kept = visitors.compactMapValues { answers in
                let live = answers.filter { $0.value.until > now }
                return live.isEmpty ? nil : live
            }
            count += kept.values.reduce(0) { $0 + $1.count }
            return kept.isEmpty ? nil : kept
        }
        state.count = count
    }
}
