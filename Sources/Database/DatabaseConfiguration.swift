import Foundation
import PostgresNIO

/// Why a database URL was refused.
public struct DatabaseConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

extension PostgresClient.Configuration {
    /// Reads `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`.
    ///
    /// Without `sslmode`, loopback hosts use plain TCP and others require TLS.
    public init(url: String) throws(DatabaseConfigurationError) {
        guard let components = URLComponents(string: url),
              components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, !host.isEmpty,
              let user = components.user, !user.isEmpty
        else {
            throw DatabaseConfigurationError(description: "expected postgres://user:password@host:port/database")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !database.isEmpty else {
            throw DatabaseConfigurationError(description: "the database URL names no database")
        }
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value
            ?? (["127.0.0.1", "localhost", "::1"].contains(host) ? "disable" : "require")
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw DatabaseConfigurationError(description: "unsupported sslmode '\(mode)'")
        }
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database,
            tls: tls
        )
    }
}

/// Runs `body` with a `PostgresClient` whose connection pool is running, and stops the pool after.
public func withPostgresClient<Result: Sendable>(
    configuration: PostgresClient.Configuration,
    logger: Logger,
    _ body: @Sendable (PostgresClient) async throws -> Result
) async throws -> Result {
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}
