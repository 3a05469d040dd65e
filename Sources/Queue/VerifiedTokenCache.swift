import Synchronization

/// Visitor tickets and place tokens this gateway has already found genuine, so that a waiting
/// visitor's next poll with the same texts costs two dictionary lookups instead of two HMACs.
///
/// Only texts that verified are kept, keyed by their exact bytes (a place token together with
/// the event and visitor it was checked for), so a hit answers what ``VisitorTickets`` would
/// answer. Memory is bounded: each cache is split into shards, and a shard that reaches its
/// share of `capacity` is emptied (the next polls verify again). Shards keep the two event loops
/// from waiting on one lock.
///
/// Keys hash only the last bytes of their token, which belong to its MAC, and compare whole: the
/// MACs of genuine tokens (the only ones kept) are uniform, and a lookup then hashes 16 bytes
/// instead of a whole ticket.
public final class VerifiedTokenCache: Sendable {
    public let tickets: VisitorTickets
    private let visitors: [Shard<TicketKey, String>]
    private let spots: [Shard<PlaceKey, QueueSpot>]

    struct TicketKey: Hashable {
        var ticket: String

        func hash(into hasher: inout Hasher) {
            VerifiedTokenCache.hashTail(of: ticket, into: &hasher)
        }
    }

    struct PlaceKey: Hashable {
        var token: String
        var event: String
        var visitor: String

        func hash(into hasher: inout Hasher) {
            VerifiedTokenCache.hashTail(of: token, into: &hasher)
        }
    }

    /// How many trailing bytes of a token its key hashes.
    static let hashedTail = 16

    static let shardCount = 16

    /// - Parameter capacity: entries kept at most by each of the two caches (about 200 bytes each).
    public init(tickets: VisitorTickets, capacity: Int = 100_000) {
        self.tickets = tickets
        let perShard = max(1, capacity / Self.shardCount)
        self.visitors = (0..<Self.shardCount).map { _ in Shard(capacity: perShard) }
        self.spots = (0..<Self.shardCount).map { _ in Shard(capacity: perShard) }
    }

    /// The visitor id of a genuine ticket, as ``VisitorTickets/visitor(from:)`` answers it.
    public func visitor(from ticket: String) -> String? {
        let key = TicketKey(ticket: ticket)
        let shard = visitors[Self.shardIndex(ticket)]
        if let visitor = shard.value(for: key) { return visitor }
        guard let visitor = tickets.visitor(from: ticket) else { return nil }
        shard.store(visitor, for: key)
        return visitor
    }

    /// The spot a genuine place token records, as ``VisitorTickets/spot(fromPlaceToken:event:visitor:)`` answers it.
    public func spot(fromPlaceToken token: String, event: String, visitor: String) -> QueueSpot? {
        let key = PlaceKey(token: token, event: event, visitor: visitor)
        let shard = spots[Self.shardIndex(token)]
        if let spot = shard.value(for: key) { return spot }
        guard let spot = tickets.spot(fromPlaceToken: token, event: event, visitor: visitor) else { return nil }
        shard.store(spot, for: key)
        return spot
    }

    /// Entries held now, both caches together.
    public var count: Int {
        visitors.reduce(0) { $0 + $1.count } + spots.reduce(0) { $0 + $1.count }
    }

    /// The shard of a token: its last byte, a character of its MAC, spreads tokens evenly.
    static func shardIndex(_ token: String) -> Int {
        Int(token.utf8.last ?? 0) % shardCount
    }

    /// Feeds the last ``hashedTail`` bytes of `token` (all of a shorter one) to `hasher`.
    static func hashTail(of token: String, into hasher: inout Hasher) {
        var token = token
        token.withUTF8 { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[max(0, bytes.count - hashedTail)...])))
        }
    }
}

/// One lock's worth of a cache, emptied when it reaches its capacity.
private final class Shard<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    let capacity: Int
    let entries: Mutex<[Key: Value]>

    init(capacity: Int) {
        self.capacity = capacity
        self.entries = Mutex([:])
    }

    func value(for key: Key) -> Value? {
        entries.withLock { $0[key] }
    }

    func store(_ value: Value, for key: Key) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = value
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
