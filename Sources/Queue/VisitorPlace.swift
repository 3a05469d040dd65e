/// Where a visitor stands in a waiting room.
public enum VisitorPlace: Sendable, Hashable {
    /// In the queue: `position` is 1-based, `ahead` visitors come first.
    case waiting(position: Int, ahead: Int, waitingCount: Int, rates: ReleaseRates)
    /// Joined before the room opened; the order is drawn at `opensAt` (Unix ms) among those who
    /// showed a sign of life within `idleTimeout` seconds (0 when not reported) before it.
    case prequeue(opensAt: Int64, prequeueCount: Int, idleTimeout: Int = 0)
    /// Released: may collect a pass until `expiresAt`.
    case admitted(Admission)
}

/// A room's configured release rate and the rate observed over the last 10 s.
public struct ReleaseRates: Sendable, Hashable {
    public var configured: Double
    public var observed: Double
    /// Seconds a waiting visitor may go without polling (0 when not reported).
    public var idleTimeout: Int

    public init(configured: Double, observed: Double, idleTimeout: Int = 0) {
        self.configured = configured
        self.observed = observed
        self.idleTimeout = idleTimeout
    }

    /// Seconds until `ahead` visitors have been released: at the observed rate when there is
    /// one, else at the configured rate, and at most ``longestETA``; nil when nothing is being
    /// released.
    public func eta(ahead: Int) -> Int? {
        let rate = observed > 0 ? observed : configured
        guard rate > 0 else { return nil }
        return Int(min((Double(ahead + 1) / rate).rounded(.up), Double(Self.longestETA)))
    }

    /// The longest wait an ETA names (about 31 years): a rate near zero (a room's adaptive
    /// release at a tiny `min_rate`) made one past `Int.max`, which ended the process.
    public static let longestETA = 1_000_000_000

    /// How long a client should wait before polling again: sooner near the front, never so
    /// late that the idle timeout would take the place.
    public func pollAfterMilliseconds(ahead: Int) -> Int {
        let eta = eta(ahead: ahead).map { $0 * 1000 } ?? 10_000
        return withinIdleTimeout(milliseconds: min(max(eta / 4, 1_000), 10_000))
    }

    /// How long a live stream may wait before it looks at its place again: as long as a poll
    /// would, except while nothing is being released, when it waits up to `longest` (a change of
    /// the room's pace wakes it sooner; a poll cannot be woken, so it asks every 2.5 s); never so
    /// late that the idle timeout would take the place.
    public func lookAfter(ahead: Int, longest: Duration) -> Duration {
        guard eta(ahead: ahead) == nil else { return .milliseconds(pollAfterMilliseconds(ahead: ahead)) }
        return .milliseconds(withinIdleTimeout(milliseconds: Int(longest / .milliseconds(1))))
    }

    /// `milliseconds`, or a third of the idle timeout when that is sooner.
    private func withinIdleTimeout(milliseconds: Int) -> Int {
        Self.within(idleTimeout: idleTimeout, milliseconds: milliseconds)
    }

    /// `milliseconds`, or a third of `idleTimeout` (seconds; 0 when there is none) when that is
    /// sooner: a client asks again before silence would lose its place. An idle timeout past a
    /// day (none is configured so) counts as a day, so no value read back can overflow.
    public static func within(idleTimeout: Int, milliseconds: Int) -> Int {
        idleTimeout > 0 ? min(milliseconds, min(idleTimeout, 86_400) * 1000 / 3) : milliseconds
    }
}

/// A visitor's admission: the slot they hold until `expiresAt`.
public struct Admission: Sendable, Hashable {
    /// The visitor's rank among everyone the room admitted (1-based); also the pass's id.
    public var number: Int
    /// Unix time in milliseconds at which the pass expires and the slot frees.
    public var expiresAt: Int64

    public init(number: Int, expiresAt: Int64) {
        self.number = number
        self.expiresAt = expiresAt
    }
}

/// The outcome of a join.
public struct JoinResult: Sendable, Hashable {
    /// False when the visitor already had this place.
    public var joined: Bool
    public var place: VisitorPlace
    /// Where a waiting or pre-queue visitor is filed, for answering their polls from a snapshot.
    public var spot: QueueSpot?
}

/// Where a waiting or pre-queue visitor is filed in Redis: the line and their score in it (the
/// join sequence in the queue, the draw in the pre-queue). Scores only grow along a line, so a
/// snapshot of each line's ends tells a visitor's rank without asking Redis.
public struct QueueSpot: Sendable, Hashable {
    public enum Line: String, Sendable, Hashable {
        case queue = "w", prequeue = "p"
    }

    public var line: Line
    public var score: Int64

    public init(line: Line, score: Int64) {
        self.line = line
        self.score = score
    }
}

/// The outcome of one release call.
public struct ReleaseResult: Sendable, Hashable {
    public var admitted: Int
    public var abandoned: Int
    public var waiting: Int
    public var active: Int
    public var observedRate: Double
    /// A step of the call stopped at its bound: there is more to do now.
    public var more: Bool = false
}

/// Figures of a room, for operators.
public struct RoomStats: Sendable, Codable, Hashable {
    public var waiting: Int
    public var prequeue: Int
    public var activePasses: Int
    public var releasedTotal: Int
    public var abandonedTotal: Int
    public var configuredRate: Double
    public var observedRate: Double
    /// Milliseconds the visitor at the head of the queue has waited.
    public var oldestWaitMilliseconds: Int

    enum CodingKeys: String, CodingKey {
        case waiting, prequeue, activePasses = "active_passes", releasedTotal = "released_total"
        case abandonedTotal = "abandoned_total", configuredRate = "configured_rate", observedRate = "observed_rate"
        case oldestWaitMilliseconds = "oldest_wait_ms"
    }
}
