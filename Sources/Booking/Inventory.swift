import EmbeddedResources
import Foundation
import Redis
import ServiceKit

/// An event's sale settings, as the reservation script reads them.
public struct SaleSettings: Sendable, Hashable {
    public enum Status: String, Sendable, Codable { case draft, published, cancelled }

    public var status: Status
    public var startsAt: Date?
    public var endsAt: Date?
    public var maxSeatsPerUser: Int
    public var hold: Duration

    public init(status: Status = .published, startsAt: Date? = nil, endsAt: Date? = nil, maxSeatsPerUser: Int = 10, hold: Duration = .seconds(600)) {
        self.status = status
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.maxSeatsPerUser = maxSeatsPerUser
        self.hold = hold
    }
}

/// A zone's seats, as Redis counts them.
public struct ZoneInventory: Sendable, Hashable, Codable {
    public var capacity: Int
    public var available: Int
    public var held: Int
    public var sold: Int

    public init(capacity: Int, available: Int, held: Int, sold: Int) {
        self.capacity = capacity
        self.available = available
        self.held = held
        self.sold = sold
    }
}

/// A successful hold.
public struct Hold: Sendable, Hashable {
    public var bookingID: String
    public var status: String
    public var expiresAt: Date
    /// Price × quantity in minor units, from the catalog, never from the client.
    public var total: Int
    public var currency: String
    /// False when the booking id was reserved before: the booking as it stands now (it may have
    /// been cancelled, expired or confirmed since).
    public var isNew: Bool
}

/// Seat inventory and holds in Redis, changed only by Lua scripts: no seat is ever held or sold
/// twice, whatever the concurrency and however many booking instances run.
public struct Inventory: Sendable {
    static let reserveScript = RedisScript(EmbeddedLua.bookingReserve)
    static let paymentStartScript = RedisScript(EmbeddedLua.bookingPaymentStart)
    static let releaseScript = RedisScript(EmbeddedLua.bookingRelease)
    static let confirmScript = RedisScript(EmbeddedLua.bookingConfirm)

    public let redis: RedisClient
    private let reserveKeyCache: ReserveKeyCache

    public init(redis: RedisClient) {
        self.redis = redis
        self.reserveKeyCache = ReserveKeyCache(space: redis.keySpace)
    }

    /// The keys of `event`'s inventory in this deployment's key space.
    public func keys(_ event: String) -> BookingKeys {
        BookingKeys(event: event, in: redis.keySpace)
    }

    /// Sets an event's sale settings.
    public func configureSale(event: String, _ sale: SaleSettings) async throws(BookingError) {
        let keys = keys(event)
        let milliseconds = { (date: Date?) in date.map { Int($0.timeIntervalSince1970 * 1000) } ?? 0 }
        try await redisCall {
            try await redis.hashSet(keys.sale, [
                ("status", sale.status.rawValue), ("sale_starts_ms", milliseconds(sale.startsAt)), ("sale_ends_ms", milliseconds(sale.endsAt)),
                ("max_per_user", sale.maxSeatsPerUser), ("hold_ms", Int(sale.hold / .milliseconds(1))),
            ])
            try await redis.setAdd(BookingKeys.events(in: redis.keySpace), [event])
        }
    }

    /// Creates a zone with `available` seats free (all by default); a zone that exists keeps its
    /// counts, so holds in flight are never overwritten.
    public func createZone(event: String, zone: String, capacity: Int, price: Int, currency: String, available: Int? = nil) async throws(BookingError) {
        let keys = keys(event)
        let key = keys.zone(zone)
        try await redisCall {
            try await redis.setAdd(keys.zones, [zone])
            try await redis.hashSetIfAbsent(key, field: "capacity", to: capacity)
            try await redis.hashSetIfAbsent(key, field: "available", to: available ?? capacity)
            try await redis.hashSet(key, [("price", price), ("currency", currency)])
            for field in ["held", "sold"] { try await redis.hashSetIfAbsent(key, field: field, to: 0) }
        }
    }

    /// Holds `quantity` seats; `bookingID` makes the call idempotent.
    public func reserve(event: String, zone: String, user: String, quantity: Int, bookingID: String = UUIDText.random()) async throws(BookingError) -> Hold {
        guard (1...100).contains(quantity) else { throw .invalidQuantity }
        let reply: RedisValue
        do {
            reply = try await run(Self.reserveScript, keys: reserveKeys(event: event, zone: zone, bookingID: bookingID), arguments: [bookingID, user, zone, quantity])
        } catch {
            BookingMetrics.reservation(event: event, outcome: BookingMetrics.outcome(of: error))
            throw error
        }
        return try Self.hold(reply, event: event, quantity: quantity, bookingID: bookingID)
    }

    func reserveKeys(event: String, zone: String, bookingID: String) -> [String] {
        reserveKeyCache.keys(event: event, zone: zone, bookingID: bookingID)
    }

    /// The hold `booking_reserve.lua` replied, counted when it is new.
    static func hold(_ reply: RedisValue, event: String, quantity: Int, bookingID: String) throws(BookingError) -> Hold {
        guard let fields = reply.array, fields.count == 5, let status = fields[0].string, let expires = fields[1].int else {
            throw .unavailable("unexpected reserve reply \(reply)")
        }
        let isNew = fields[4].int == 1
        if isNew { BookingMetrics.reservation(event: event, outcome: "held", seats: quantity) }
        return Hold(
            bookingID: bookingID, status: status, expiresAt: Date(timeIntervalSince1970: Double(expires) / 1000),
            total: fields[2].int ?? 0, currency: fields[3].string ?? "", isNew: isNew
        )
    }

    /// Sells the held seats (after payment) and returns the confirmation code: `code`, or the one
    /// recorded by an earlier confirmation. Throws `.expired` once the hold has lapsed.
    @discardableResult
    public func confirm(event: String, bookingID: String, payment: String, code: String = Inventory.confirmationCode()) async throws(BookingError) -> String {
        let keys = keys(event)
        let zone = try await zone(of: bookingID, keys: keys)
        let reply = try await run(
            Self.confirmScript, keys: [keys.booking(bookingID), keys.zone(zone), keys.userSeats, keys.holds, keys.stream], arguments: [bookingID, payment, code]
        )
        BookingMetrics.confirmed(event: event)
        return reply.string ?? ""
    }

    /// A new confirmation code: `BR-` and ten characters of Crockford's base 32 (50 random bits).
    public static func confirmationCode() -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        return "BR-" + String((0..<10).map { _ in alphabet[Int.random(in: 0..<32)] })
    }

    /// Cancels the owner's held booking, returning its seats.
    public func cancel(event: String, bookingID: String, user: String) async throws(BookingError) {
        let keys = keys(event)
        let zone = try await zone(of: bookingID, keys: keys)
        _ = try await run(Self.releaseScript, keys: release(keys, bookingID, zone), arguments: [bookingID, "cancel", user])
    }

    /// Keeps a held booking's seats while its payment is under way: the first call extends the
    /// hold to `grace` from now (never shortens it); later calls change nothing. Returns the
    /// hold's expiry. Throws `.expired` for a hold past its time, `.alreadyCancelled`, and
    /// answers a confirmed booking's expiry as it stands.
    @discardableResult
    public func startPayment(event: String, bookingID: String, grace: Duration) async throws(BookingError) -> Date {
        let keys = keys(event)
        let reply = try await run(Self.paymentStartScript, keys: [keys.booking(bookingID), keys.holds], arguments: [bookingID, Int(grace / .milliseconds(1))])
        guard let fields = reply.array, fields.count == 2, let expires = fields[1].int else { throw .unavailable("unexpected payment start reply \(reply)") }
        return Date(timeIntervalSince1970: Double(expires) / 1000)
    }

    /// Returns an expired hold's seats; false when the hold is still live or already ended.
    @discardableResult
    public func expire(event: String, bookingID: String) async throws(BookingError) -> Bool {
        let keys = keys(event)
        let zone = try await zone(of: bookingID, keys: keys)
        do {
            return try await run(Self.releaseScript, keys: release(keys, bookingID, zone), arguments: [bookingID, "expire", ""]).string == "expired"
        } catch .alreadyConfirmed, .alreadyCancelled, .expired {
            return false
        }
    }

    /// Expires every hold past its time (up to `limit`); safe with any number of sweepers at once.
    /// An index entry whose booking is gone (an orphan) is dropped from the index and handed to
    /// `orphaned`, so it cannot hold up the expiries behind it.
    @discardableResult
    public func sweep(event: String, limit: Int = 500, orphaned: (String) -> Void = { _ in }) async throws(BookingError) -> Int {
        let keys = keys(event)
        let now = Int(Date().timeIntervalSince1970 * 1000)
        let due = try await redisCall { try await redis.sortedSetMembers(keys.holds, scoresThrough: Double(now), limit: limit) }
        var released = 0
        for bookingID in due {
            do {
                if try await expire(event: event, bookingID: bookingID) { released += 1 }
            } catch .bookingNotFound {
                if try await redisCall({ try await redis.sortedSetRemove(keys.holds, member: bookingID) }) { orphaned(bookingID) }
            }
        }
        return released
    }

    /// A zone's seat counts.
    public func zone(event: String, zone: String) async throws(BookingError) -> ZoneInventory {
        let values = try await redisCall {
            try await redis.hashGet(keys(event).zone(zone), fields: ["capacity", "available", "held", "sold"])
        }.map { $0.flatMap { Int($0) } }
        guard let capacity = values[0] else { throw .zoneNotFound }
        return ZoneInventory(capacity: capacity, available: values[1] ?? 0, held: values[2] ?? 0, sold: values[3] ?? 0)
    }

    /// A booking's status: held, confirmed, cancelled or expired.
    public func status(event: String, bookingID: String) async throws(BookingError) -> String {
        guard let status = try await redisCall({ try await redis.hashGet(keys(event).booking(bookingID), field: "status") }) else {
            throw .bookingNotFound
        }
        return status
    }

    private func release(_ keys: BookingKeys, _ bookingID: String, _ zone: String) -> [String] {
        [keys.booking(bookingID), keys.zone(zone), keys.userSeats, keys.holds, keys.stream]
    }

    /// A booking's zone never changes, so it can be read before the script that acts on it.
    private func zone(of bookingID: String, keys: BookingKeys) async throws(BookingError) -> String {
        guard let zone = try await redisCall({ try await redis.hashGet(keys.booking(bookingID), field: "zone") }) else { throw .bookingNotFound }
        return zone
    }

    func run(_ script: RedisScript, keys: [String], arguments: [any RedisArgument]) async throws(BookingError) -> RedisValue {
        do {
            return try await redis.run(script, keys: keys, arguments: arguments)
        } catch {
            throw Self.bookingError(error)
        }
    }

    /// What a failed script call means to a booking: the script's own error, or Redis unavailable.
    static func bookingError(_ error: RedisError) -> BookingError {
        if case .server(let server) = error { return BookingError(code: server.code, message: server.message) }
        return .unavailable("\(error)")
    }

    /// Runs typed Redis calls; a Redis that fails them makes the booking service `unavailable`.
    func redisCall<T>(_ body: () async throws -> T) async throws(BookingError) -> T {
        do {
            return try await body()
        } catch {
            throw .unavailable("\(error)")
        }
    }
}
