import Foundation
import Logging
import PostgresNIO

/// One batch of stream events, written set-wise: one statement per event type inserting or
/// moving all its bookings (`unnest` of arrays), then one update of the zone counters with the
/// net change. A booking's events are `reserved` then one of `confirmed`, `cancelled` or
/// `expired`, so the types in that order leave the bookings as the events in order would; the
/// counters move once, from one consistent state to the next, never through a state the
/// `held + sold ≤ capacity` check would refuse. Every change is guarded by the booking's status,
/// so a batch applied twice changes nothing.
struct BookingBatch: Sendable {
    struct Reserved: Sendable {
        var ids: [String] = [], zones: [String] = [], users: [String] = [], quantities: [Int] = []
        var totals: [Int64] = [], currencies: [String] = [], expires: [Date] = [], created: [Date] = []
    }

    struct Ended: Sendable {
        var ids: [String] = [], payments: [String] = [], at: [Date] = []
    }

    var reserved = Reserved()
    var confirmed = Ended()
    var cancelled = Ended()
    var expired = Ended()
    let logger: Logger

    init(_ events: [[String: String]], logger: Logger) {
        self.logger = logger
        for fields in events {
            guard let type = fields["type"], let booking = fields["booking"], let zone = fields["zone"],
                  let quantity = fields["quantity"].flatMap({ Int($0) })
            else { continue }
            let at = Self.date(fields["at_ms"])
            switch type {
            case "reserved":
                reserved.ids.append(booking)
                reserved.zones.append(zone)
                reserved.users.append(fields["user"] ?? "")
                reserved.quantities.append(quantity)
                reserved.totals.append(Int64(fields["total"] ?? "0") ?? 0)
                reserved.currencies.append(fields["currency"] ?? "")
                reserved.expires.append(Self.date(fields["expires_ms"]))
                reserved.created.append(at)
            case "confirmed": confirmed.append(booking, payment: fields["payment"] ?? "", at: at)
            case "cancelled": cancelled.append(booking, payment: "", at: at)
            case "expired": expired.append(booking, payment: "", at: at)
            default: logger.warning("unknown booking event", metadata: ["type": "\(type)"])
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
        if !confirmed.ids.isEmpty {
            let rows = try await connection.query("""
                UPDATE booking.bookings b SET status = 'confirmed', payment_ref = NULLIF(c.payment, ''), updated_at = c.at
                FROM unnest(\(confirmed.ids)::text[], \(confirmed.payments)::text[], \(confirmed.at)::timestamptz[]) AS c(id, payment, at)
                WHERE b.id = c.id AND b.status = 'held'
                RETURNING b.zone_id, b.quantity
                """, logger: logger)
            for try await (zone, quantity) in rows.decode((String, Int).self) {
                deltas[zone, default: (0, 0)].held -= quantity
                deltas[zone, default: (0, 0)].sold += quantity
            }
        }
        for (status, ended) in [("cancelled", cancelled), ("expired", expired)] where !ended.ids.isEmpty {
            let rows = try await connection.query("""
                UPDATE booking.bookings b SET status = \(status), updated_at = c.at
                FROM unnest(\(ended.ids)::text[], \(ended.at)::timestamptz[]) AS c(id, at)
                WHERE b.id = c.id AND b.status = 'held'
                RETURNING b.zone_id, b.quantity
                """, logger: logger)
            for try await (zone, quantity) in rows.decode((String, Int).self) { deltas[zone, default: (0, 0)].held -= quantity }
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

    static func date(_ milliseconds: String?) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds.flatMap { Int64($0) } ?? 0) / 1000)
    }
}

extension BookingBatch.Ended {
    mutating func append(_ id: String, payment: String, at: Date) {
        ids.append(id)
        payments.append(payment)
        self.at.append(at)
    }
}
