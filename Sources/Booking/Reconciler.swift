import EmbeddedResources
import Logging
import PostgresNIO
import Redis


/// One zone as Redis and Postgres each count it, and where they disagree.
public struct ZoneReconciliation: Sendable, Hashable, Codable {
    public var event: String
    public var zone: String
    /// Redis's live counts; nil when Redis has no such zone.
    public var redis: ZoneInventory?
    /// The `booking.zones` counters.
    public var postgres: ZoneInventory
    /// What the `booking.bookings` rows add up to (held and confirmed seats): the record.
    public var bookings: ZoneInventory
    /// Booking events in Redis that Postgres does not have yet (drift while this is above 0 may be lag).
    public var unpersisted: Int
    /// Each disagreement, in words; empty when all agree.
    public var drift: [String]
    /// What a repair changed, in words.
    public var repairs: [String]
}

/// A booking and its payment that disagree.
public struct PaymentMismatch: Sendable, Hashable, Codable {
    public var bookingID: String
    public var bookingStatus: String?
    public var total: Int?
    public var paymentID: String?
    public var paymentStatus: String?
    public var amount: Int?
}

/// Compares Redis inventory with Postgres, zone by zone, and on request repairs the drift:
/// Postgres counters are set from its booking rows, and Redis counts from Postgres, the latter
/// only while the persister has written every booking event (checked atomically in
/// `booking_repair.lua`), so holds in flight are never overwritten.
public struct Reconciler: Sendable {
    static let repairScript = RedisScript(EmbeddedLua.bookingRepair)

    let inventory: Inventory
    let postgres: PostgresClient
    let logger: Logger

    public init(inventory: Inventory, postgres: PostgresClient, logger: Logger) {
        self.inventory = inventory
        self.postgres = postgres
        self.logger = logger
    }

    /// The report for `events` (every published or cancelled event when nil), repairing drift when asked.
    ///
    /// A repair of Redis happens only if nothing was written to the event's stream between the
    /// moment before Postgres was read and the repair (see `booking_repair.lua`), so a
    /// reservation made meanwhile is never counted as available again.
    public func reconcile(events: [String]? = nil, repair: Bool = false) async throws -> [ZoneReconciliation] {
        var marks: [String: String?] = [:]
        if repair {
            for event in try await recordedEvents(events) { marks[event] = try await streamMark(event: event) }
        }
        var zones: [ZoneReconciliation] = []
        for row in try await recordedZones(events: events) {
            var zone = row
            zone.redis = try? await inventory.zone(event: zone.event, zone: zone.zone)
            zone.unpersisted = try await unpersisted(event: zone.event)
            zone.drift = Self.drift(of: zone)
            if repair, !zone.drift.isEmpty { try await self.repair(&zone, mark: marks[zone.event] ?? nil) }
            zones.append(zone)
        }
        return zones
    }

    /// The stream's last entry id ("" without a stream) when the persister has acknowledged all
    /// of it, so Postgres read after this moment has every event up to it; nil when it is behind.
    func streamMark(event: String) async throws -> String? {
        let stream = inventory.keys(event).stream
        guard let info = try await inventory.redis.streamInfo(stream) else { return "" }
        guard let last = info["last-generated-id"]?.string else { return nil }
        guard let group = try await persisterGroup(stream), group["pending"]?.int == 0, group["last-delivered-id"]?.string == last else { return nil }
        return last
    }

    /// The persister's consumer group on `stream` (`XINFO GROUPS` fields), nil before it first read.
    private func persisterGroup(_ stream: String) async throws -> [String: RedisValue]? {
        try await inventory.redis.streamGroups(stream).first { $0["name"]?.string == BookingPersister.group }
    }

    /// Bookings and payments that disagree: a confirmed booking without a succeeded payment of its
    /// total, or a succeeded payment whose booking is not confirmed (a refund still owed).
    public func paymentMismatches(events: [String]? = nil) async throws -> [PaymentMismatch] {
        var query: PostgresQuery = """
            SELECT COALESCE(b.id, i.booking_id), b.status, b.total_minor, i.id, i.status, i.amount_minor
            FROM booking.bookings b FULL JOIN payments.intents i ON i.booking_id = b.id
            WHERE ((b.status = 'confirmed' AND (i.status IS DISTINCT FROM 'succeeded' OR i.amount_minor <> b.total_minor))
                OR (i.status = 'succeeded' AND b.status IS DISTINCT FROM 'confirmed'))
            """
        if let events {
            let filter: PostgresQuery = " AND COALESCE(b.event_id, i.event_id) = ANY(\(events))"
            query.sql += filter.sql
            query.binds = filter.binds
        }
        query.sql += " ORDER BY 1"
        var mismatches: [PaymentMismatch] = []
        for try await (booking, status, total, payment, paymentStatus, amount) in try await postgres.query(query, logger: logger)
            .decode((String, String?, Int64?, String?, String?, Int64?).self)
        {
            mismatches.append(PaymentMismatch(
                bookingID: booking, bookingStatus: status, total: total.map(Int.init),
                paymentID: payment, paymentStatus: paymentStatus, amount: amount.map(Int.init)
            ))
        }
        return mismatches
    }

    static func drift(of zone: ZoneReconciliation) -> [String] {
        var drift: [String] = []
        let record = zone.bookings
        if zone.postgres.held != record.held || zone.postgres.sold != record.sold {
            drift.append("postgres counters held \(zone.postgres.held), sold \(zone.postgres.sold); its bookings held \(record.held), sold \(record.sold)")
        }
        guard let redis = zone.redis else {
            drift.append("missing from redis")
            return drift
        }
        if redis.available + redis.held + redis.sold != redis.capacity {
            drift.append("redis available \(redis.available) + held \(redis.held) + sold \(redis.sold) ≠ capacity \(redis.capacity)")
        }
        if redis.capacity != record.capacity || redis.held != record.held || redis.sold != record.sold {
            drift.append("redis capacity \(redis.capacity), held \(redis.held), sold \(redis.sold); postgres capacity \(record.capacity), held \(record.held), sold \(record.sold)")
        }
        return drift
    }

    private func repair(_ zone: inout ZoneReconciliation, mark: String?) async throws {
        let record = zone.bookings
        if zone.postgres != record {
            // Relative to the rows as they are under the zone's lock, not to the figures read
            // earlier: a persister's delta committed meanwhile is neither lost nor counted twice.
            let (event, id) = (zone.event, zone.zone)
            try await postgres.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT 1 FROM booking.zones WHERE event_id = \(event) AND id = \(id) FOR UPDATE", logger: logger)
                try await connection.query("""
                    UPDATE booking.zones z SET
                        held = (SELECT COALESCE(SUM(quantity), 0) FROM booking.bookings WHERE event_id = \(event) AND zone_id = \(id) AND status = 'held'),
                        sold = (SELECT COALESCE(SUM(quantity), 0) FROM booking.bookings WHERE event_id = \(event) AND zone_id = \(id) AND status = 'confirmed')
                    WHERE z.event_id = \(event) AND z.id = \(id)
                    """, logger: logger)
            }
            zone.repairs.append("postgres counters set from its bookings")
        }
        guard let mark else {
            zone.repairs.append("redis not repaired: the persister was behind when Postgres was read; run again")
            return
        }
        let keys = inventory.keys(zone.event)
        do {
            if zone.redis == nil {
                let price = try await price(event: zone.event, zone: zone.zone)
                try await inventory.createZone(
                    event: zone.event, zone: zone.zone, capacity: record.capacity, price: price.minor, currency: price.currency, available: record.available
                )
            }
            let reply = try await inventory.redis.run(
                Self.repairScript, keys: [keys.zone(zone.zone), keys.stream],
                arguments: [BookingPersister.group, record.capacity, record.held, record.sold, mark]
            )
            let counts = (reply.array ?? []).compactMap(\.int)
            if counts.count == 4, zone.redis != record {
                zone.redis = ZoneInventory(capacity: counts[0], available: counts[1], held: counts[2], sold: counts[3])
                zone.repairs.append("redis counts set from postgres")
            }
        } catch {
            zone.repairs.append("redis not repaired: \(error)")
        }
        logger.notice("reconciliation repaired a zone", metadata: ["event": "\(zone.event)", "zone": "\(zone.zone)", "repairs": "\(zone.repairs)"])
    }

    /// The events `events` names, or every published or cancelled one.
    private func recordedEvents(_ events: [String]?) async throws -> [String] {
        if let events { return events }
        var all: [String] = []
        for try await id in try await postgres.query("SELECT id FROM booking.events WHERE status <> 'draft'", logger: logger).decode(String.self) {
            all.append(id)
        }
        return all
    }

    private func recordedZones(events: [String]?) async throws -> [ZoneReconciliation] {
        let filter: PostgresQuery = if let events {
            "WHERE z.event_id = ANY(\(events))"
        } else {
            "WHERE z.event_id IN (SELECT id FROM booking.events WHERE status <> 'draft')"
        }
        var query: PostgresQuery = """
            SELECT z.event_id, z.id, z.capacity, z.held, z.sold,
                   COALESCE(SUM(b.quantity) FILTER (WHERE b.status = 'held'), 0)::int,
                   COALESCE(SUM(b.quantity) FILTER (WHERE b.status = 'confirmed'), 0)::int
            FROM booking.zones z LEFT JOIN booking.bookings b ON b.event_id = z.event_id AND b.zone_id = z.id
            """
        query.sql += " " + filter.sql + " GROUP BY z.event_id, z.id ORDER BY z.event_id, z.id"
        query.binds = filter.binds
        var zones: [ZoneReconciliation] = []
        for try await (event, zone, capacity, held, sold, recordHeld, recordSold) in try await postgres.query(query, logger: logger)
            .decode((String, String, Int, Int, Int, Int, Int).self)
        {
            zones.append(ZoneReconciliation(
                event: event, zone: zone, redis: nil,
                postgres: ZoneInventory(capacity: capacity, available: capacity - held - sold, held: held, sold: sold),
                bookings: ZoneInventory(capacity: capacity, available: capacity - recordHeld - recordSold, held: recordHeld, sold: recordSold),
                unpersisted: 0, drift: [], repairs: []
            ))
        }
        return zones
    }

    /// Entries of the event's stream not yet acknowledged by the persister's group.
    private func unpersisted(event: String) async throws -> Int {
        let stream = inventory.keys(event).stream
        guard try await inventory.redis.exists(stream) else { return 0 }
        let length = try await inventory.redis.streamLength(stream)
        guard let group = try await persisterGroup(stream) else { return length }
        return (group["pending"]?.int ?? 0) + (group["lag"]?.int ?? length)
    }

    private func price(event: String, zone: String) async throws -> (minor: Int, currency: String) {
        let rows = try await postgres.query("SELECT price_minor, currency FROM booking.zones WHERE event_id = \(event) AND id = \(zone)", logger: logger)
        for try await (price, currency) in rows.decode((Int64, String).self) { return (Int(price), currency) }
        throw BookingError.zoneNotFound
    }
}
