import Crypto
import EmbeddedResources

/// One SQL migration: `NNNN_name.sql`, applied once, in version order.
public struct Migration: Sendable, Hashable {
    /// The number before the first underscore of the file name.
    public let version: Int
    /// The file name, e.g. `0001_service_schemas.sql`.
    public let name: String
    /// The SQL, which may hold several statements.
    public let sql: String
    /// Hex SHA-256 of `sql`, recorded so that an edited, already applied migration is noticed.
    public let checksum: String

    /// - Throws: when the name is not `NNNN_words.sql`.
    public init(name: String, sql: String) throws(MigrationError) {
        let parts = name.split(separator: "_", maxSplits: 1)
        guard name.hasSuffix(".sql"), parts.count == 2, parts[0].count >= 4,
              parts[0].allSatisfy(\.isASCII), let version = Int(parts[0]), version > 0
        else { throw .invalidName(name) }
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: Array(sql.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The migrations embedded from `Migrations/` at build time, in version order.
    public static func embedded() throws(MigrationError) -> [Migration] {
        var migrations: [Migration] = []
        for file in EmbeddedMigrations.all {
            migrations.append(try Migration(name: file.name, sql: file.contents))
        }
        return try ordered(migrations)
    }

    /// Sorts by version, refusing two files with one version.
    public static func ordered(_ migrations: [Migration]) throws(MigrationError) -> [Migration] {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw .duplicateVersion(previous.name, next.name)
        }
        return sorted
    }
}

/// Why migrations could not be applied.
public enum MigrationError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidName(String)
    case duplicateVersion(String, String)
    /// An applied migration's SQL differs from the file now shipped.
    case checksumMismatch(String)
    /// The database records a migration this binary does not know (it is older than the schema).
    case unknownApplied(version: Int, name: String)
    case failed(String, reason: String)

    public var description: String {
        switch self {
        case .invalidName(let name): "migration file '\(name)' is not named NNNN_words.sql"
        case .duplicateVersion(let first, let second): "migrations '\(first)' and '\(second)' share a version"
        case .checksumMismatch(let name): "migration '\(name)' was edited after it was applied"
        case .unknownApplied(let version, let name): "the database has migration \(version) '\(name)', which this build does not know"
        case .failed(let name, let reason): "migration '\(name)' failed: \(reason)"
        }
    }
}
