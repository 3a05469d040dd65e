import ArgumentParser
import Database

/// `booking-rush migrate`: applies the SQL migrations built into the binary.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the database migrations that are missing (each once, in order)."
    )

    @OptionGroup var connections: ConnectionOptions

    func run() async throws {
        let logger = connections.logger("migrate")
        let runner = try MigrationRunner(migrations: try Migration.embedded(), logger: logger)
        let applied = try await withPostgresClient(configuration: try connections.postgresConfiguration(), logger: logger) { client in
            try await runner.run(on: client)
        }
        print(applied.isEmpty ? "schema is up to date (\(runner.migrations.count) migrations)" : "applied: \(applied.joined(separator: ", "))")
    }
}
