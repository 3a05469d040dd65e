import Database
import Foundation
import Logging
import PostgresNIO

/// A throwaway database on the Postgres started by `scripts/services up`, dropped afterwards.
enum TestDatabase {
    static let logger = Logger(label: "database-tests")

    static var adminConfiguration: PostgresClient.Configuration {
        get throws {
            let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"]
                ?? "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush_test"
            return try PostgresClient.Configuration(url: url)
        }
    }

    /// Creates a fresh database, runs `body` with its configuration, then drops it.
    static func withFreshDatabase<Result: Sendable>(
        _ body: @Sendable (PostgresClient.Configuration) async throws -> Result
    ) async throws -> Result {
        let admin = try adminConfiguration
        let name = "br_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await withPostgresClient(configuration: admin, logger: logger) { client in
            _ = try await client.withConnection { try await $0.simpleQuery("CREATE DATABASE \(name)").get() }
        }
        var configuration = admin
        configuration.database = name
        do {
            let result = try await body(configuration)
            try await drop(name, admin: admin)
            return result
        } catch {
            try? await drop(name, admin: admin)
            throw error
        }
    }

    private static func drop(_ name: String, admin: PostgresClient.Configuration) async throws {
        try await withPostgresClient(configuration: admin, logger: logger) { client in
            _ = try await client.withConnection { try await $0.simpleQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)").get() }
        }
    }
}
