import ArgumentParser
import Booking
import Database
import Foundation
import PostgresNIO
import Redis

/// `booking-rush reconcile`: compares Redis inventory with Postgres and, with `--repair`, mends drift.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare Redis inventory with Postgres, zone by zone; --repair mends the drift.",
        discussion: """
            Booking events still in Redis are written to Postgres first (safe beside running persisters).
            Exits 1 when drift remains.
            """
    )

    @OptionGroup var connections: ConnectionOptions
    @Option(name: .customLong("event"), help: "Only this event (repeatable); default: every published or cancelled event")
    var events: [String] = []
    @Flag(help: "Set Postgres counters from its bookings, and Redis counts from Postgres") var repair = false
    @Flag(help: "Print the report as JSON") var json = false

    func run() async throws {
        let logger = connections.logger("reconcile")
        let redis = RedisClient(configuration: try connections.redisConfiguration(), logger: logger)
        let selected = events.isEmpty ? nil : events
        let report = try await withPostgresClient(configuration: try connections.postgresConfiguration(), logger: logger) { postgres in
            try await BookingPersister(redis: redis, postgres: postgres, consumer: "reconcile", logger: logger).persistAll(events: selected)
            let reconciler = Reconciler(inventory: Inventory(redis: redis), postgres: postgres, logger: logger)
            return Report(
                zones: try await reconciler.reconcile(events: selected, repair: repair),
                payments: try await reconciler.paymentMismatches(events: selected),
                deadLetters: try await BookingPersister.deadLetters(redis: redis, events: selected)
            )
        }
        await redis.shutdown()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.table(report.zones))
            print(report.payments.isEmpty ? "bookings and payments agree" : "bookings and payments disagree:")
            for mismatch in report.payments {
                print("  \(mismatch.bookingID): booking \(mismatch.bookingStatus ?? "missing") \(mismatch.total.map(String.init) ?? "-"), payment \(mismatch.paymentID ?? "none") \(mismatch.paymentStatus ?? "-") \(mismatch.amount.map(String.init) ?? "-")")
            }
        }
        if !json {
            print(report.deadLetters.isEmpty ? "no booking events set aside" : "booking events Postgres refused, set aside (bk:{evt:ID}:dead-letters):")
            for (event, count) in report.deadLetters.sorted(by: { $0.key < $1.key }) { print("  \(event): \(count)") }
        }
        let remaining = report.zones.filter { !$0.drift.isEmpty && ($0.repairs.isEmpty || $0.repairs.contains { $0.contains("not repaired") }) }
        if !remaining.isEmpty || !report.payments.isEmpty || !report.deadLetters.isEmpty { throw ExitCode(1) }
    }

    struct Report: Codable {
        var zones: [ZoneReconciliation]
        var payments: [PaymentMismatch]
        /// Booking events Postgres refused, per event.
        var deadLetters: [String: Int]
    }

    static func table(_ zones: [ZoneReconciliation]) -> String {
        var lines = ["event/zone | redis avail/held/sold | postgres held/sold | bookings held/sold | unpersisted | drift"]
        for zone in zones {
            let redis = zone.redis.map { "\($0.available)/\($0.held)/\($0.sold)" } ?? "missing"
            let state = zone.drift.isEmpty ? "none" : zone.drift.joined(separator: "; ") + (zone.repairs.isEmpty ? "" : " → " + zone.repairs.joined(separator: "; "))
            lines.append("\(zone.event)/\(zone.zone) | \(redis) | \(zone.postgres.held)/\(zone.postgres.sold) | \(zone.bookings.held)/\(zone.bookings.sold) | \(zone.unpersisted) | \(state)")
        }
        lines.append("\(zones.count) zones, \(zones.filter { !$0.drift.isEmpty }.count) with drift")
        return lines.joined(separator: "\n")
    }
}
