import Logging
import PostgresNIO
import Redis

/// Booking events Postgres refuses outright (a constraint or a value it rejects) are set aside
/// instead of blocking their event's stream: the batch is applied again entry by entry, and
/// each entry Postgres still refuses is moved to the event's dead-letter stream
/// (`bk:{evt:ID}:dead-letters`, with the reason and the original entry id) and acknowledged.
/// `/ready` and `reconcile` show how many there are.
extension BookingPersister {
    /// Most dead letters kept per event (the oldest go first).
    static let deadLetterCapacity = 10_000

    /// Whether Postgres refused the data itself (SQLSTATE class 22 or 23), as opposed to
    /// failing to run the statement (connection lost, timeout): only the former is set aside.
    static func isRefusal(_ error: any Error) -> Bool {
        guard let state = serverError(error)?.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23")
    }

    /// The server's error inside `error`, unwrapping a transaction's.
    private static func serverError(_ error: any Error) -> PSQLError? {
        if let transaction = error as? PostgresTransactionError, let inner = transaction.closureError { return serverError(inner) }
        return error as? PSQLError
    }

    /// Applies the entries one transaction each; returns how many were set aside.
    func applyOneByOne(event: String, entries: [StreamEntry]) async throws -> Int {
        var setAside = 0
        for entry in entries {
            let single = BookingBatch([entry.fields], logger: logger)
            do {
                try await postgres.withTransaction(logger: logger) { connection in
                    try await single.apply(event: event, on: connection)
                }
            } catch where Self.isRefusal(error) {
                try await deadLetter(entry, event: event, reason: Self.reason(error))
                setAside += 1
            }
        }
        return setAside
    }

    private func deadLetter(_ entry: StreamEntry, event: String, reason: String) async throws {
        let fields: [(String, any RedisArgument)] = [("entry", entry.id), ("reason", reason)]
            + entry.fields.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) }
        try await redis.streamAdd(BookingKeys(event: event, in: redis.keySpace).deadLetters, trimmingTo: Self.deadLetterCapacity, fields)
        try await redis.setAdd(BookingKeys.eventsWithDeadLetters(in: redis.keySpace), [event])
        BookingMetrics.deadLettered(event: event)
        logger.error("Postgres refused a booking event; set aside", metadata: [
            "event": "\(event)", "entry": "\(entry.id)", "type": "\(entry.fields["type"] ?? "")", "reason": "\(reason)",
        ])
    }

    private static func reason(_ error: any Error) -> String {
        guard let info = serverError(error)?.serverInfo else { return "\(error)" }
        return "\(info[.sqlState] ?? "") \(info[.message] ?? "")".trimmingCharacters(in: .whitespaces)
    }

    /// Dead letters per event (events without any are left out): of `events`, or of every event
    /// with inventory (what `reconcile` reports).
    public static func deadLetters(redis: RedisClient, events: [String]? = nil) async throws -> [String: Int] {
        let selected = if let events { events } else { try await redis.setMembers(BookingKeys.events(in: redis.keySpace)) }
        return try await counts(of: selected, redis: redis)
    }

    /// Dead letters per event, of the events the persister flagged when it set entries aside:
    /// what readiness reports, one set read when there are none. An event whose dead letters
    /// were deleted leaves the set.
    public static func flaggedDeadLetters(redis: RedisClient) async throws -> [String: Int] {
        let flagged = try await redis.setMembers(BookingKeys.eventsWithDeadLetters(in: redis.keySpace))
        let counts = try await counts(of: flagged, redis: redis)
        let cleared = flagged.filter { counts[$0] == nil }
        if !cleared.isEmpty { try await redis.setRemove(BookingKeys.eventsWithDeadLetters(in: redis.keySpace), cleared) }
        return counts
    }

    private static func counts(of events: [String], redis: RedisClient) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for event in events {
            let count = try await redis.streamLength(BookingKeys(event: event, in: redis.keySpace).deadLetters)
            if count > 0 { counts[event] = count }
        }
        return counts
    }
}

/// Booking events set aside because Postgres refused them (see `reconcile`).
public struct DeadLettersPresent: Error, CustomStringConvertible {
    public let counts: [String: Int]

    public var description: String {
        let total = counts.values.reduce(0, +)
        return "\(total) booking event(s) Postgres refused are set aside (\(counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))); see `booking-rush reconcile`"
    }
}
