import Database
import PostgresNIO
import Testing

@Suite("Migrations against a live Postgres")
struct MigrationRunnerTests {
    static let logger = TestDatabase.logger

    /// Migrations whose side effects show how often each one ran.
    static func counting() throws -> [Migration] {
        [
            try Migration(name: "0001_counter.sql", sql: "CREATE TABLE runs (migration int NOT NULL); SELECT pg_sleep(0.2); INSERT INTO runs VALUES (1);"),
            try Migration(name: "0002_again.sql", sql: "INSERT INTO runs VALUES (2); SELECT pg_sleep(0.1);"),
            try Migration(name: "0010_last.sql", sql: "INSERT INTO runs VALUES (10);"),
        ]
    }

    @Test("the embedded migrations apply, and applying them twice is a no-op")
    func embeddedTwice() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            try await withPostgresClient(configuration: configuration, logger: Self.logger) { client in
                let runner = try MigrationRunner(migrations: try Migration.embedded(), logger: Self.logger)
                let first = try await runner.run(on: client)
                #expect(first == runner.migrations.map(\.name))
                #expect(first.contains("0001_service_schemas.sql"))
                #expect(try await runner.run(on: client) == [])
                let recorded = try await client.query("SELECT count(*) FROM schema_migrations", logger: Self.logger)
                for try await count in recorded.decode(Int.self) { #expect(count == runner.migrations.count) }
                let schemas = try await client.query(
                    "SELECT count(*) FROM information_schema.schemata WHERE schema_name IN ('gateway', 'booking', 'payments')",
                    logger: Self.logger
                )
                for try await count in schemas.decode(Int.self) { #expect(count == 3) }
            }
        }
    }

    @Test("four runners started together apply each file exactly once")
    func concurrentRunners() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let migrations = try Self.counting()
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await withPostgresClient(configuration: configuration, logger: Self.logger) { client in
                            try await MigrationRunner(migrations: migrations, logger: Self.logger).run(on: client)
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(applied.sorted() == migrations.map(\.name))
            try await withPostgresClient(configuration: configuration, logger: Self.logger) { client in
                var runs: [Int] = []
                for try await run in try await client.query("SELECT migration FROM runs ORDER BY migration", logger: Self.logger).decode(Int.self) {
                    runs.append(run)
                }
                #expect(runs == [1, 2, 10])
            }
        }
    }

    @Test("a failing migration rolls back whole and is not recorded")
    func failureRollsBack() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            try await withPostgresClient(configuration: configuration, logger: Self.logger) { client in
                let broken = [
                    try Migration(name: "0001_ok.sql", sql: "CREATE TABLE kept (id int);"),
                    try Migration(name: "0002_broken.sql", sql: "CREATE TABLE half (id int); INSERT INTO no_such_table VALUES (1);"),
                ]
                await #expect(throws: MigrationError.self) {
                    try await MigrationRunner(migrations: broken, logger: Self.logger).run(on: client)
                }
                var tables: [String] = []
                let rows = try await client.query(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_name IN ('kept', 'half') ORDER BY 1",
                    logger: Self.logger
                )
                for try await table in rows.decode(String.self) { tables.append(table) }
                #expect(tables == ["kept"])
                var versions: [Int] = []
                for try await version in try await client.query("SELECT version FROM schema_migrations", logger: Self.logger).decode(Int.self) {
                    versions.append(version)
                }
                #expect(versions == [1])
                // Fixed, it applies on the next run.
                let fixed = [broken[0], try Migration(name: "0002_broken.sql", sql: "CREATE TABLE half (id int);")]
                #expect(try await MigrationRunner(migrations: fixed, logger: Self.logger).run(on: client) == ["0002_broken.sql"])
            }
        }
    }

    @Test("an applied migration edited afterwards, or one this build lacks, is refused")
    func driftIsRefused() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            try await withPostgresClient(configuration: configuration, logger: Self.logger) { client in
                let original = [try Migration(name: "0001_a.sql", sql: "CREATE TABLE a (id int);")]
                try await MigrationRunner(migrations: original, logger: Self.logger).run(on: client)
                let edited = [try Migration(name: "0001_a.sql", sql: "CREATE TABLE a (id bigint);")]
                await #expect(throws: MigrationError.checksumMismatch("0001_a.sql")) {
                    try await MigrationRunner(migrations: edited, logger: Self.logger).run(on: client)
                }
                await #expect(throws: MigrationError.unknownApplied(version: 1, name: "0001_a.sql")) {
                    try await MigrationRunner(migrations: [], logger: Self.logger).run(on: client)
                }
            }
        }
    }

    @Test("file names must be NNNN_words.sql with distinct versions")
    func names() throws {
        for bad in ["1_short.sql", "0001.sql", "abcd_x.sql", "0001_x.txt", "0000_zero.sql"] {
            #expect(throws: MigrationError.invalidName(bad)) { try Migration(name: bad, sql: "") }
        }
        let twins = [try Migration(name: "0003_a.sql", sql: ""), try Migration(name: "0003_b.sql", sql: "")]
        #expect(throws: MigrationError.duplicateVersion("0003_a.sql", "0003_b.sql")) { try Migration.ordered(twins) }
    }
}
