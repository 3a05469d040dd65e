import EmbeddedResources
import Foundation
import Logging
import PostgresNIO
import Redis
import ServiceKit
import ServiceLifecycle

/// Writes the booking events of every event's Redis Stream into Postgres, in batches: one
/// transaction per batch, acknowledged only after it commits.
///
/// Each change is guarded by the booking's status (a hold is inserted once, confirmed or ended
/// only while held), so a batch delivered twice after a crash changes nothing the second time.
/// Entries a crashed instance read but never acknowledged are claimed (`XAUTOCLAIM`) by any
/// persister once they have waited `claimAfter`, so a restart loses nothing. Acknowledged entries
/// older than `retention` are trimmed from the stream, so Redis memory stays bounded.
public struct BookingPersister: Service {
    public static let group = "persister"
    static let trimScript = RedisScript(EmbeddedLua.bookingStreamTrim)

    /// What one `persist` call did: events read and transactions written.
    public struct Progress: Sendable, Hashable {
        public var events = 0
        public var transactions = 0
    }

    let redis: RedisClient
    let postgres: PostgresClient
    let consumer: String
    let batchSize: Int
    let claimAfter: Duration
    let retention: Duration
    let logger: Logger

    public init(
        redis: RedisClient,
        postgres: PostgresClient,
        consumer: String = "persister-\(UUID().uuidString.prefix(8))",
        batchSize: Int = 500,
        claimAfter: Duration = .seconds(30),
        retention: Duration = .seconds(600),
        logger: Logger
    ) {
        self.redis = redis
        self.postgres = postgres
        self.consumer = consumer
        self.batchSize = batchSize
        self.claimAfter = claimAfter
        self.retention = retention
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicWorker.run("persisting bookings", every: .milliseconds(200), retryAfter: .seconds(1), logger: logger) {
            try await persistAll().events == 0 ? .idle : .busy
        }
    }

    /// Drains what is pending on every event's stream (or on `events`). An event whose batch
    /// fails is logged and left for the next pass; the others go on.
    @discardableResult
    public func persistAll(events: [String]? = nil) async throws -> Progress {
        var progress = Progress()
        let selected = if let events { events } else { try await redis.setMembers(BookingKeys.events(in: redis.keySpace)) }
        for event in selected {
            do {
                let drained = try await drain(event: event)
                progress.events += drained.events
                progress.transactions += drained.transactions
            } catch where error is CancellationError || Task.isCancelled {
                throw CancellationError()
            } catch {
                logger.warning("persisting an event's bookings failed", metadata: ["event": "\(event)", "error": "\(error)"])
            }
        }
        return progress
    }

    /// Writes batches of one event's stream until nothing is pending.
    @discardableResult
    public func drain(event: String) async throws -> Progress {
        var progress = Progress()
        while true {
            let batch = try await persist(event: event)
            if batch.events == 0 { return progress }
            progress.events += batch.events
            progress.transactions += batch.transactions
        }
    }

    /// Reads one batch of the event's stream (its own unacknowledged entries first, then those a
    /// crashed consumer left behind, then new ones) and writes it.
    public func persist(event: String) async throws -> Progress {
        let stream = BookingKeys(event: event, in: redis.keySpace).stream
        try await redis.streamCreateGroup(stream, group: Self.group)
        var entries = try await redis.streamReadGroup(stream, group: Self.group, consumer: consumer, count: batchSize, after: "0")
        if entries.isEmpty {
            // Entries delivered to a consumer that crashed before acknowledging them.
            entries = try await redis.streamAutoClaim(
                stream, group: Self.group, consumer: consumer, minIdleMilliseconds: Int(claimAfter / .milliseconds(1)), count: batchSize
            )
        }
        if entries.isEmpty { entries = try await redis.streamReadGroup(stream, group: Self.group, consumer: consumer, count: batchSize, after: ">") }
        guard !entries.isEmpty else { return Progress() }
        let batch = BookingBatch(entries.map(\.fields), logger: logger)
        var transactions = 1
        do {
            try await postgres.withTransaction(logger: logger) { connection in
                try await batch.apply(event: event, on: connection)
            }
        } catch where Self.isRefusal(error) {
            // One entry Postgres refuses must not hold back the rest of the stream.
            _ = try await applyOneByOne(event: event, entries: entries)
            transactions = entries.count
        }
        try await redis.streamAcknowledge(stream, group: Self.group, ids: entries.map(\.id))
        _ = try await redis.run(Self.trimScript, keys: [stream], arguments: [Self.group, Int(retention / .milliseconds(1))])
        return Progress(events: entries.count, transactions: transactions)
    }

    typealias StreamEntry = RedisStreamEntry
}
