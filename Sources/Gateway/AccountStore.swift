import Crypto
import Database
import Foundation
import HummingbirdBcrypt
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// A built-in account.
public struct Account: Sendable, Hashable {
    public var id: UUID
    public var email: String
    public var roles: [String]
}

/// Why an account operation was refused.
public enum AccountError: Error, Sendable, Hashable {
    case invalidEmail
    case weakPassword
    case emailTaken
    /// Unknown email or wrong password (never said which).
    case invalidCredentials
    /// Unknown, expired, revoked or reused refresh token.
    case invalidRefreshToken
    case unknownRole(String)
    case notFound
}

/// Accounts and refresh tokens in Postgres; passwords hashed with bcrypt off the event loops.
public struct AccountStore: Sendable {
    public static let refreshLifetime: TimeInterval = 7 * 86_400
    public static let roles: Set<String> = ["customer", "organizer", "admin"]

    let postgres: PostgresClient
    let bcryptCost: UInt8
    let logger: Logger
    /// A hash of a random secret at the same cost, checked for unknown emails so that they take
    /// as long as wrong passwords.
    let decoyHash: String

    /// Hashes the decoy once: call at start-up, not per request.
    public init(postgres: PostgresClient, bcryptCost: UInt8 = 12, logger: Logger) {
        self.postgres = postgres
        self.bcryptCost = bcryptCost
        self.logger = logger
        self.decoyHash = Bcrypt.hash(UUID().uuidString, cost: bcryptCost)
    }

    /// Creates a customer account.
    public func register(email: String, password: String) async throws -> Account {
        let email = try Self.normalised(email)
        guard (10...128).contains(password.count) else { throw AccountError.weakPassword }
        let hash = try await NIOThreadPool.singleton.runIfActive { [bcryptCost] in Bcrypt.hash(password, cost: bcryptCost) }
        let id = UUID()
        do {
            try await postgres.query(
                "INSERT INTO gateway.accounts (id, email, password_hash) VALUES (\(id), \(email), \(hash))", logger: logger
            )
        } catch where isUniqueViolation(error) {
            throw AccountError.emailTaken
        }
        return Account(id: id, email: email, roles: ["customer"])
    }

    /// The account whose password matches; the same work is done for unknown emails.
    public func authenticate(email: String, password: String) async throws -> Account {
        let email = (try? Self.normalised(email)) ?? ""
        let rows = try await postgres.query(
            "SELECT id, email, password_hash, roles FROM gateway.accounts WHERE email = \(email)", logger: logger
        )
        var found: (Account, String)?
        for try await (id, email, hash, roles) in rows.decode((UUID, String, String, [String]).self) {
            found = (Account(id: id, email: email, roles: roles), hash)
        }
        let hash = found?.1 ?? decoyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        guard let account = found?.0, matches else { throw AccountError.invalidCredentials }
        return account
    }

    public func account(id: UUID) async throws -> Account {
        let rows = try await postgres.query("SELECT id, email, roles FROM gateway.accounts WHERE id = \(id)", logger: logger)
        for try await (id, email, roles) in rows.decode((UUID, String, [String]).self) {
            return Account(id: id, email: email, roles: roles)
        }
        throw AccountError.notFound
    }

    /// Replaces an account's roles (an administrator's act).
    public func setRoles(id: UUID, roles: [String]) async throws -> Account {
        for role in roles where !Self.roles.contains(role) { throw AccountError.unknownRole(role) }
        guard !roles.isEmpty else { throw AccountError.unknownRole("") }
        try await postgres.query("UPDATE gateway.accounts SET roles = \(roles) WHERE id = \(id)", logger: logger)
        return try await account(id: id)
    }

    /// A new refresh token for a fresh login (a new family).
    public func issueRefreshToken(for account: Account) async throws -> String {
        try await postgres.withConnection { connection in
            try await insertRefreshToken(account: account.id, family: UUID(), on: connection)
        }
    }

    /// Spends a refresh token and returns its account with the next token of the family.
    /// A token that was already spent means it leaked: the whole family is revoked.
    public func rotate(refreshToken: String) async throws -> (Account, String) {
        enum Outcome { case rotated(Account, String), rejected }
        let hash = Self.digest(refreshToken)
        // The transaction returns rather than throws on a rejected token, so that a reuse's
        // revocation of the family commits.
        let outcome: Outcome = try await postgres.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT id, account_id, family_id, expires_at > now(), used_at IS NOT NULL, revoked_at IS NOT NULL
                FROM gateway.refresh_tokens WHERE token_hash = \(hash) FOR UPDATE
                """,
                logger: logger
            )
            var found: (UUID, UUID, UUID, Bool, Bool, Bool)?
            for try await row in rows.decode((UUID, UUID, UUID, Bool, Bool, Bool).self) { found = row }
            guard let (id, accountID, family, live, used, revoked) = found else { return .rejected }
            if used || revoked {
                try await connection.query(
                    "UPDATE gateway.refresh_tokens SET revoked_at = now() WHERE family_id = \(family) AND revoked_at IS NULL",
                    logger: logger
                )
                if used && !revoked { logger.warning("refresh token reused; family revoked", metadata: ["account": "\(accountID)"]) }
                return .rejected
            }
            guard live else { return .rejected }
            try await connection.query("UPDATE gateway.refresh_tokens SET used_at = now() WHERE id = \(id)", logger: logger)
            let next = try await insertRefreshToken(account: accountID, family: family, on: connection)
            let accountRows = try await connection.query("SELECT id, email, roles FROM gateway.accounts WHERE id = \(accountID)", logger: logger)
            for try await (id, email, roles) in accountRows.decode((UUID, String, [String]).self) {
                return .rotated(Account(id: id, email: email, roles: roles), next)
            }
            return .rejected
        }
        guard case .rotated(let account, let next) = outcome else { throw AccountError.invalidRefreshToken }
        return (account, next)
    }

    /// Revokes the family of a refresh token (logout).
    public func revoke(refreshToken: String) async throws {
        try await postgres.query(
            """
            UPDATE gateway.refresh_tokens SET revoked_at = now()
            WHERE family_id = (SELECT family_id FROM gateway.refresh_tokens WHERE token_hash = \(Self.digest(refreshToken)))
              AND revoked_at IS NULL
            """,
            logger: logger
        )
    }

    private func insertRefreshToken(account: UUID, family: UUID, on connection: PostgresConnection) async throws -> String {
        let token = "rt_" + Data((0..<32).map { _ in UInt8.random(in: 0 ... .max) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let expires = Date().addingTimeInterval(Self.refreshLifetime)
        try await connection.query(
            """
            INSERT INTO gateway.refresh_tokens (id, account_id, family_id, token_hash, expires_at)
            VALUES (\(UUID()), \(account), \(family), \(Self.digest(token)), \(expires))
            """,
            logger: logger
        )
        return token
    }

    /// The stored form of a refresh token (bound as `bytea`).
    static func digest(_ token: String) -> ByteBuffer {
        ByteBuffer(bytes: SHA256.hash(data: Array(token.utf8)))
    }

    static func normalised(_ email: String) throws(AccountError) -> String {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard (3...254).contains(email.utf8.count), parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !email.contains(where: { $0.isWhitespace || $0.isNewline })
        else { throw .invalidEmail }
        return email
    }
}
