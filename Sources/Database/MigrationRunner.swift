import Logging
import PostgresNIO

/// Applies migrations in version order, each once and in its own transaction, recording them
/// in `schema_migrations`. A session advisory lock makes concurrent runners take turns, so two
/// processes starting together apply every file exactly once.
public struct MigrationRunner: Sendable {
    /// The advisory lock key that serialises runners (any constant unique to this project).
    public static let lockKey: Int64 = 0x6272_6d69_6772_6174

    public let migrations: [Migration]
    public let logger: Logger

    public init(migrations: [Migration], logger: Logger) throws(MigrationError) {
        self.migrations = try Migration.ordered(migrations)
        self.logger = logger
    }

    /// Applies what is missing; returns the names applied by this call.
    @discardableResult
    public func run(on client: PostgresClient) async throws -> [String] {
        try await client.withConnection { connection in
            try await run(on: connection)
        }
    }

    /// Applies what is missing on one connection, holding the advisory lock throughout.
    @discardableResult
    public func run(on connection: PostgresConnection) async throws -> [String] {
        try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
        do {
            let applied = try await applyMissing(on: connection)
            try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
            return applied
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
            throw error
        }
    }

    private func applyMissing(on connection: PostgresConnection) async throws -> [String] {
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var recorded: [Int: (name: String, checksum: String)] = [:]
        let rows = try await connection.query("SELECT version, name, checksum FROM schema_migrations", logger: logger)
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            recorded[version] = (name, checksum)
        }
        let known = Set(migrations.map(\.version))
        if let stranger = recorded.keys.sorted().first(where: { !known.contains($0) }) {
            throw MigrationError.unknownApplied(version: stranger, name: recorded[stranger]!.name)
        }
        var applied: [String] = []
        for migration in migrations {
            if let existing = recorded[migration.version] {
                guard existing.checksum == migration.checksum else { throw MigrationError.checksumMismatch(migration.name) }
                continue
            }
            try await apply(migration, on: connection)
            applied.append(migration.name)
        }
        return applied
    }

    private func apply(_ migration: Migration, on connection: PostgresConnection) async throws {
        logger.info("applying migration", metadata: ["migration": "\(migration.name)"])
        try await connection.query("BEGIN", logger: logger)
        do {
            for statement in splitSQLStatements(migration.sql) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                logger: logger
            )
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw MigrationError.failed(migration.name, reason: String(reflecting: error))
        }
    }
}
