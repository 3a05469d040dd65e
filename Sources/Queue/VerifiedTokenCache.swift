import Synchronization

/// Visitor tickets and place tokens this gateway has already found genuine, so that a waiting
/// visitor's next poll with the same texts costs one dictionary lookup instead of two HMACs.
///
/// Only texts that verified are kept: a ticket with the visitor it names, and beside it the last
/// place token that visitor showed, with the event it was checked for. A hit answers what
/// ``VisitorTickets`` would answer. Memory is bounded: the cache is split into shards, and a
/// shard that reaches its share of `capacity` is emptied (the next polls verify again). Shards
/// keep the two event loops from waiting on one lock.
///
/// Entries are keyed by the last ``hashedTail`` bytes of their ticket, which belong to its MAC,
/// held inline: the MACs of genuine tickets (the only ones kept) are uniform, so a lookup hashes
/// and compares 16 bytes in place and reads the one stored ticket it then compares whole, rather
/// than every ticket its probe passes.
public final class VerifiedTokenCache: Sendable {
    public let tickets: VisitorTickets
    private let shards: [Shard]

    /// A genuine ticket as it was checked: the visitor it names, and the last genuine place token
    /// that visitor showed. Hand it back to ``spot(fromPlaceToken:event:of:)``. A class, so that a
    /// lookup hands on one reference rather than copies of four strings; a newer place token
    /// replaces the whole entry.
    public final class VerifiedTicket: Sendable {
        /// The ticket's text.
        public let ticket: String
        /// The visitor the ticket stands for.
        public let visitor: String
        let place: VerifiedPlace?

        init(ticket: String, visitor: String, place: VerifiedPlace? = nil) {
            self.ticket = ticket
            self.visitor = visitor
            self.place = place
        }
    }

    struct VerifiedPlace: Sendable {
        var token: String
        var event: String
        var spot: QueueSpot
    }

    /// The last ``hashedTail`` bytes of a text (zero-filled in front when shorter), in two words.
    struct Tail: Hashable {
        var head: UInt64
        var last: UInt64

        init(_ text: String) {
            var text = text
            (head, last) = text.withUTF8 { bytes in
                var tail = (UInt64(0), UInt64(0))
                withUnsafeMutableBytes(of: &tail) { words in
                    let count = min(bytes.count, VerifiedTokenCache.hashedTail)
                    words.baseAddress!.advanced(by: VerifiedTokenCache.hashedTail - count)
                        .copyMemory(from: bytes.baseAddress! + (bytes.count - count), byteCount: count)
                }
                return tail
            }
        }
    }

    /// How many trailing bytes of a ticket its key holds.
    static let hashedTail = 16

    static let shardCount = 16

    /// - Parameter capacity: tickets kept at most (about 300 bytes each with their place token).
    public init(tickets: VisitorTickets, capacity: Int = 100_000) {
        self.tickets = tickets
        let perShard = max(1, capacity / Self.shardCount)
        self.shards = (0..<Self.shardCount).map { _ in Shard(capacity: perShard) }
    }

    /// The genuine ticket `ticket`, as ``VisitorTickets/visitor(from:)`` judges it.
    public func verified(ticket: String) -> VerifiedTicket? {
        let tail = Tail(ticket)
        let shard = shards[Self.shardIndex(ticket)]
        if let entry = shard.value(for: tail), entry.ticket == ticket { return entry }
        guard let visitor = tickets.visitor(from: ticket) else { return nil }
        let entry = VerifiedTicket(ticket: ticket, visitor: visitor)
        shard.store(entry, for: tail)
        return entry
    }

    /// The visitor id of a genuine ticket, as ``VisitorTickets/visitor(from:)`` answers it.
    public func visitor(from ticket: String) -> String? {
        verified(ticket: ticket)?.visitor
    }

    /// The spot a genuine place token records for the visitor of `ticket` in `event`, as
    /// ``VisitorTickets/spot(fromPlaceToken:event:visitor:)`` answers it. The token is kept
    /// beside the ticket (replacing the one kept before) once it verifies.
    public func spot(fromPlaceToken token: String, event: String, of ticket: VerifiedTicket) -> QueueSpot? {
        if let place = ticket.place, place.token == token, place.event == event { return place.spot }
        guard let spot = tickets.spot(fromPlaceToken: token, event: event, visitor: ticket.visitor) else { return nil }
        let held = VerifiedTicket(ticket: ticket.ticket, visitor: ticket.visitor, place: VerifiedPlace(token: token, event: event, spot: spot))
        shards[Self.shardIndex(ticket.ticket)].replace(Tail(ticket.ticket), with: held)
        return spot
    }

    /// Tickets held now.
    public var count: Int {
        shards.reduce(0) { $0 + $1.count }
    }

    /// The shard of a ticket: its last byte, a character of its MAC, spreads tickets evenly.
    static func shardIndex(_ ticket: String) -> Int {
        Int(ticket.utf8.last ?? 0) % shardCount
    }
}

/// One lock's worth of a cache, emptied when it reaches its capacity.
private final class Shard: Sendable {
    let capacity: Int
    let entries: Mutex<[VerifiedTokenCache.Tail: VerifiedTokenCache.VerifiedTicket]>

    init(capacity: Int) {
        self.capacity = capacity
        self.entries = Mutex([:])
    }

    func value(for key: VerifiedTokenCache.Tail) -> VerifiedTokenCache.VerifiedTicket? {
        entries.withLock { $0[key] }
    }

    func store(_ value: VerifiedTokenCache.VerifiedTicket, for key: VerifiedTokenCache.Tail) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = value
        }
    }

    /// Puts `value` in place of the entry for the same ticket; nothing when that entry is gone.
    func replace(_ key: VerifiedTokenCache.Tail, with value: VerifiedTokenCache.VerifiedTicket) {
        entries.withLock { entries in
            guard let index = entries.index(forKey: key), entries.values[index].ticket == value.ticket else { return }
            entries.values[index] = value
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
