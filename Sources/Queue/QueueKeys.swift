import Redis

/// Redis key names of one event's waiting room.
///
/// Every key of an event carries the hash tag `{evt:ID}`, so all the keys a script touches
/// live in one Redis Cluster slot.
public struct QueueKeys: Sendable, Hashable {
    /// The event id, as it appears in URLs.
    public let event: String
    /// The prefix shared by every key of the event: `SPACE:{evt:ID}:` (`bk:{evt:ID}:` by default).
    public let prefix: String

    public init(event: String, in space: RedisKeySpace) {
        self.event = event
        self.prefix = space.tagged("evt:" + event) + ":"
    }

    /// Hash: the room's configuration.
    public var room: String { prefix + "room" }
    /// Counter: the join sequence.
    public var sequence: String { prefix + "seq" }
    /// Sorted set: waiting visitors by join sequence.
    public var waiting: String { prefix + "waiting" }
    /// Sorted set: waiting visitors by last poll time.
    public var seen: String { prefix + "seen" }
    /// Sorted set: visitors who joined before the room opened, by their draw.
    public var prequeue: String { prefix + "prequeue" }
    /// Hash: each visitor's state.
    public var visitors: String { prefix + "visitors" }
    /// Sorted set: admitted visitors by pass expiry.
    public var active: String { prefix + "active" }
    /// Hash: release bookkeeping and totals.
    public var stats: String { prefix + "stats" }
    /// Sorted set: recent releases, for the observed rate.
    public var releases: String { prefix + "releases" }
    /// Sorted set: visitors whose place or pass ended, by when, until their state is pruned.
    public var ended: String { prefix + "ended" }

    /// List: the adaptive controller's latest rate changes, newest first (JSON).
    public var adaptiveLog: String { prefix + "adaptive-log" }

    /// List: samples of the room's figures over the sale, oldest first (JSON).
    public var history: String { prefix + "history" }

    /// Every key of the room, for deleting it.
    public var all: [String] { [room, sequence, waiting, seen, prequeue, visitors, active, stats, releases, ended, adaptiveLog, history] }

    /// String: the account the anonymous pass of admission `admission` was bound to (expires
    /// a minute after the pass).
    public func holder(admission: String) -> String { prefix + "holder:" + admission }
    /// String: the claim of the single-use pass `passID` (its `jti`), kept while it could be presented.
    public func spent(passID: String) -> String { prefix + "spent:" + passID }
    /// `SCAN` patterns of the marks passes leave (``holder(admission:)``, ``spent(passID:)``): one
    /// key per admission, so not in ``all``; event ids and key spaces hold no pattern characters.
    public var passMarkPatterns: [String] { [prefix + "holder:*", prefix + "spent:*"] }

    /// Set of every event id that has a room in `space` (not hash-tagged: it is never used inside a script).
    public static func rooms(in space: RedisKeySpace) -> String { space.key("rooms") }

    /// Whether `event` can be used in keys and URLs: 1–64 of `A-Z a-z 0-9 - _ .`.
    public static func isValidEvent(_ event: String) -> Bool {
        isValidEvent(utf8: event.utf8)
    }

    /// Whether the UTF-8 bytes `event` are a valid event id (see ``isValidEvent(_:)``).
    @inlinable
    public static func isValidEvent(utf8 event: some Collection<UInt8>) -> Bool {
        (1...64).contains(event.count) && event.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }
}
