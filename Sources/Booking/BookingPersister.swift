import Foundation
import Logging
import PostgresNIO
import Redis
import ServiceLifecycle

/// Writes the booking events of every event's Redis Stream into Postgres, in batches: one
/// transaction per batch, acknowledged only after it commits.
///
/// Each change is guarded by the booking's status (a hold is inserted once, confirmed or ended
/// only while held), so a batch delivered twice after a crash changes nothing the second time.
public struct BookingPersister: Service {
    public static let group = "persister"

    /// What one `persist` call did: events read and transactions written.
    public struct Progress: Sendable, Hashable {
        public var events = 0
        public var transactions = 0
    }

    let redis: RedisClient
    let postgres: PostgresClient
    let consumer: String
    let batchSize: Int
    let logger: Logger

    public init(redis: RedisClient, postgres: PostgresClient, consumer: String = "persister-\(UUID().uuidString.prefix(8))", batchSize: Int = 500, logger: Logger) {
        self.redis = redis
        self.postgres = postgres
        self.consumer = consumer
        self.batchSize = batchSize
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if try await persistAll().events == 0 { try await Task.sleep(for: .milliseconds(200)) }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("persisting bookings failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Drains what is pending on every event's stream.
    @discardableResult
    public func persistAll() async throws -> Progress {
        let events = try await redis.send(RedisCommand("SMEMBERS", [BookingKeys.events])).array?.compactMap(\.string) ?? []
        var progress = Progress()
        for event in events {
            while true {
                let batch = try await persist(event: event)
                progress.events += batch.events
                progress.transactions += batch.transactions
                if batch.events < batchSize { break }
            }
        }
        return progress
    }

    /// Reads one batch of the event's stream (redelivered entries first) and writes it.
    public func persist(event: String) async throws -> Progress {
        let stream = BookingKeys(event: event).stream
        do {
            try await redis.send(RedisCommand("XGROUP", ["CREATE", stream, Self.group, "0", "MKSTREAM"]))
        } catch {
            // The group exists already: fine. (A `catch .server(let e) where …` here crashes Swift 6.3's SIL verifier.)
            guard case .server(let serverError) = error, serverError.code == "BUSYGROUP" else { throw error }
        }
        var entries = try await read(stream, from: "0")
        if entries.isEmpty { entries = try await read(stream, from: ">") }
        guard !entries.isEmpty else { return Progress() }
        try await postgres.withTransaction(logger: logger) { connection in
            for entry in entries { try await apply(entry.fields, event: event, on: connection) }
        }
        _ = try await redis.send(RedisCommand("XACK", [stream, Self.group] + entries.map(\.id)))
        return Progress(events: entries.count, transactions: 1)
    }

    private func read(_ stream: String, from id: String) async throws -> [(id: String, fields: [String: String])] {
        let reply = try await redis.send(RedisCommand("XREADGROUP", ["GROUP", Self.group, consumer, "COUNT", batchSize, "STREAMS", stream, id]))
        guard let streams = reply.array, let entries = streams.first?.array?.last?.array else { return [] }
        return entries.compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let values = parts[1].array else { return nil }
            var fields: [String: String] = [:]
            for index in stride(from: 0, to: values.count - 1, by: 2) {
                if let name = values[index].string, let value = values[index + 1].string { fields[name] = value }
            }
            return (id, fields)
        }
    }

    private func apply(_ fields: [String: String], event: String, on connection: PostgresConnection) async throws {
        guard let type = fields["type"], let booking = fields["booking"], let zone = fields["zone"],
              let quantity = fields["quantity"].flatMap({ Int($0) })
        else { return }
        let at = Date(timeIntervalSince1970: Double(fields["at_ms"].flatMap { Int64($0) } ?? 0) / 1000)
        switch type {
        case "reserved":
            let expires = Date(timeIntervalSince1970: Double(fields["expires_ms"].flatMap { Int64($0) } ?? 0) / 1000)
            try await connection.query("""
                WITH inserted AS (
                    INSERT INTO booking.bookings (id, event_id, zone_id, user_id, quantity, status, total_minor, currency, expires_at, created_at)
                    VALUES (\(booking), \(event), \(zone), \(fields["user"] ?? ""), \(quantity), 'held',
                            \(Int64(fields["total"] ?? "0") ?? 0), \(fields["currency"] ?? ""), \(expires), \(at))
                    ON CONFLICT (id) DO NOTHING
                    RETURNING quantity
                )
                UPDATE booking.zones SET held = held + inserted.quantity
                FROM inserted WHERE event_id = \(event) AND id = \(zone)
                """, logger: logger)
        case "confirmed":
            try await connection.query("""
                WITH changed AS (
                    UPDATE booking.bookings SET status = 'confirmed', payment_ref = \(fields["payment"]), updated_at = \(at)
                    WHERE id = \(booking) AND status = 'held' RETURNING quantity
                )
                UPDATE booking.zones SET held = held - changed.quantity, sold = sold + changed.quantity
                FROM changed WHERE event_id = \(event) AND id = \(zone)
                """, logger: logger)
        case "cancelled", "expired":
            try await connection.query("""
                WITH changed AS (
                    UPDATE booking.bookings SET status = \(type), updated_at = \(at)
                    WHERE id = \(booking) AND status = 'held' RETURNING quantity
                )
                UPDATE booking.zones SET held = held - changed.quantity
                FROM changed WHERE event_id = \(event) AND id = \(zone)
                """, logger: logger)
        default:
            logger.warning("unknown booking event", metadata: ["type": "\(type)"])
        }
    }
}
