import Foundation
import Logging
import PostgresNIO

/// One batch of stream events, written set-wise: one statement inserting the `reserved` holds,
/// one writing every ended booking (`confirmed`, `cancelled`, `expired`), then one update of the
/// zone counters with the net change, so the counters move once, from one consistent state to
/// the next, never through a state the `held + sold ≤ capacity` check would refuse.
///
/// Entries need not reach Postgres in stream order: several persisters read one stream, and an
/// entry a crashed persister left pending is claimed only later. An ended entry carries the
/// whole booking, so when its `reserved` entry has not been written yet it inserts the booking
/// as it ended (and the late `reserved` entry then changes nothing); when the booking is held it
/// moves it; when the booking has already ended it changes nothing. So a batch applied twice,
/// or its entries in any order, leave the same rows and counters.
struct BookingBatch: Sendable {
    /// Bookings as a set of events leaves them, column by column (`unnest` takes arrays).
    struct Rows: Sendable {
        var ids: [String] = [], zones: [String] = [], users: [String] = [], quantities: [Int] = []
        var statuses: [String] = [], totals: [Int64] = [], currencies: [String] = []
        var expires: [Date] = [], created: [Date] = [], at: [Date] = [], payments: [String] = []
        /// Whether the entry carries the whole booking; entries written before ended entries did
        /// (no `created_ms`) can only move a booking Postgres already has.
        var complete: [Bool] = []
    }

    var reserved = Rows()
    var ended = Rows()
    let logger: Logger

    init(_ events: [[String: String]], logger: Logger) {
        self.logger = logger
        var endedIDs = Set<String>()
        for fields in events {
            guard let type = fields["type"], let booking = fields["booking"], let zone = fields["zone"],
                  let quantity = fields["quantity"].flatMap({ Int($0) })
            else { continue }
            switch type {
            case "reserved":
                reserved.append(booking, zone: zone, quantity: quantity, status: "held", fields: fields, created: fields["at_ms"])
            case "confirmed", "cancelled", "expired":
                // A booking ends once; a repeated entry must not reach one statement twice.
                guard endedIDs.insert(booking).inserted else { continue }
                ended.append(booking, zone: zone, quantity: quantity, status: type, fields: fields, created: fields["created_ms"])
            default:
                logger.warning("unknown booking event", metadata: ["type": "\(type)"])
            }
        }
    }

    func apply(event: String, on connection: PostgresConnection) async throws {
        var deltas: [String: (held: Int, sold: Int)] = [:]
        if !reserved.ids.isEmpty {
            let rows = try await connection.query("""
                INSERT INTO booking.bookings (id, event_id, zone_id, user_id, quantity, status, total_minor, currency, expires_at, created_at)
                SELECT id, \(event), zone, usr, quantity, 'held', total, currency, expires, created
                FROM unnest(\(reserved.ids)::text[], \(reserved.zones)::text[], \(reserved.users)::text[], \(reserved.quantities)::int[],
                            \(reserved.totals)::bigint[], \(reserved.currencies)::text[], \(reserved.expires)::timestamptz[], \(reserved.created)::timestamptz[])
                     AS b(id, zone, usr, quantity, total, currency, expires, created)
                ON CONFLICT (id) DO NOTHING
                RETURNING zone_id, quantity
                """, logger: logger)
            for try await (zone, quantity) in rows.decode((String, Int).self) { deltas[zone, default: (0, 0)].held += quantity }
        }
        if !ended.ids.isEmpty {
            let rows = try await connection.query("""
                INSERT INTO booking.bookings AS b
                    (id, event_id, zone_id, user_id, quantity, status, total_minor, currency, expires_at, created_at, updated_at, payment_ref)
                SELECT id, \(event), zone, usr, quantity, status, total, currency, expires, created, at, NULLIF(payment, '')
                FROM unnest(\(ended.ids)::text[], \(ended.zones)::text[], \(ended.users)::text[], \(ended.quantities)::int[],
                            \(ended.statuses)::text[], \(ended.totals)::bigint[], \(ended.currencies)::text[], \(ended.expires)::timestamptz[],
                            \(ended.created)::timestamptz[], \(ended.at)::timestamptz[], \(ended.payments)::text[], \(ended.complete)::bool[])
                     AS e(id, zone, usr, quantity, status, total, currency, expires, created, at, payment, complete)
                WHERE complete OR EXISTS (SELECT 1 FROM booking.bookings k WHERE k.id = e.id)
                ON CONFLICT (id) DO UPDATE
                    SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, payment_ref = COALESCE(EXCLUDED.payment_ref, b.payment_ref)
                    WHERE b.status = 'held'
                RETURNING b.zone_id, b.quantity, b.status, b.xmax = 0
                """, logger: logger)
            for try await (zone, quantity, status, inserted) in rows.decode((String, Int, String, Bool).self) {
                if !inserted { deltas[zone, default: (0, 0)].held -= quantity }
                if status == "confirmed" { deltas[zone, default: (0, 0)].sold += quantity }
            }
        }
        let changed = deltas.filter { $0.value != (0, 0) }
        guard !changed.isEmpty else { return }
        let zones = Array(changed.keys)
        try await connection.query("""
            UPDATE booking.zones z SET held = z.held + d.held, sold = z.sold + d.sold
            FROM unnest(\(zones)::text[], \(zones.map { changed[$0]!.held })::int[], \(zones.map { changed[$0]!.sold })::int[]) AS d(zone, held, sold)
            WHERE z.event_id = \(event) AND z.id = d.zone
            """, logger: logger)
    }

    static func date(_ milliseconds: String?) -> Date? {
        milliseconds.flatMap { Int64($0) }.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }
}

extension BookingBatch.Rows {
    /// Adds the booking an entry describes; `created` is the entry's field holding the hold's
    /// creation time (`at_ms` of a `reserved` entry, `created_ms` of an ended one).
    mutating func append(_ id: String, zone: String, quantity: Int, status: String, fields: [String: String], created: String?) {
        let at = BookingBatch.date(fields["at_ms"]) ?? Date(timeIntervalSince1970: 0)
        let total = fields["total"].flatMap { Int64($0) }
        let currency = fields["currency"] ?? ""
        let expiry = BookingBatch.date(fields["expires_ms"])
        let creation = BookingBatch.date(created)
        ids.append(id)
        zones.append(zone)
        users.append(fields["user"] ?? "")
        quantities.append(quantity)
        statuses.append(status)
        totals.append(total ?? 0)
        currencies.append(currency)
        expires.append(expiry ?? at)
        self.created.append(creation ?? at)
        self.at.append(at)
        payments.append(fields["payment"] ?? "")
        complete.append(total != nil && !currency.isEmpty && expiry != nil && creation != nil)
    }
}
