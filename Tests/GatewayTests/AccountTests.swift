import Database
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Queue
import Testing

@testable import Gateway

/// Runs `body` with accounts on the test database (migrated), bcrypt at its cheapest cost.
func withAccounts(_ body: @Sendable (AccountStore) async throws -> Void) async throws {
    let logger = Logger(label: "account-tests")
    let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"]
        ?? "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush_test"
    try await withPostgresClient(configuration: try PostgresClient.Configuration(url: url), logger: logger) { postgres in
        try await MigrationRunner(migrations: try Migration.embedded(), logger: logger).run(on: postgres)
        try await body(AccountStore(postgres: postgres, bcryptCost: 4, logger: logger))
    }
}

@Suite("Built-in accounts: register, login, rotating refresh tokens, roles")
struct AccountTests {
    static func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    static func email() -> String { "user-\(UUID().uuidString.prefix(8).lowercased())@example.com" }

    @Test("register validates and refuses duplicates; login gives tokens; /me answers")
    func registerAndLogin() async throws {
        try await withAccounts { accounts in
            try await GatewayFixture.with(accounts: accounts) { fixture in
                try await fixture.application.test(.router) { client in
                    let email = Self.email()
                    let created = try await client.execute(uri: "/api/v1/auth/register", method: .post, body: Self.json(["email": email.uppercased(), "password": "correct horse battery"]))
                    #expect(created.status == .created)
                    #expect(created.json["email"] as? String == email, "emails are normalised")
                    #expect(created.json["roles"] as? [String] == ["customer"])
                    #expect(created.json["password_hash"] == nil)

                    let duplicate = try await client.execute(uri: "/api/v1/auth/register", method: .post, body: Self.json(["email": email, "password": "another password"]))
                    #expect(duplicate.status == .conflict)
                    let weak = try await client.execute(uri: "/api/v1/auth/register", method: .post, body: Self.json(["email": Self.email(), "password": "short"]))
                    #expect(weak.status == .badRequest)
                    #expect(weak.problem?.type == "https://booking-rush.dev/problems/weak-password")
                    let invalid = try await client.execute(uri: "/api/v1/auth/register", method: .post, body: Self.json(["email": "not an email", "password": "long enough password"]))
                    #expect(invalid.status == .badRequest)
                    let malformed = try await client.execute(uri: "/api/v1/auth/register", method: .post, body: ByteBuffer(string: "{\"email\": 5"))
                    #expect(malformed.status == .badRequest)
                    #expect(malformed.problem != nil)

                    let wrong = try await client.execute(uri: "/api/v1/auth/login", method: .post, body: Self.json(["email": email, "password": "wrong password!"]))
                    #expect(wrong.status == .unauthorized)
                    let unknown = try await client.execute(uri: "/api/v1/auth/login", method: .post, body: Self.json(["email": Self.email(), "password": "whatever password"]))
                    #expect(unknown.status == .unauthorized)
                    #expect(unknown.problem?.detail == wrong.problem?.detail, "unknown emails and wrong passwords look alike")

                    let login = try await client.execute(uri: "/api/v1/auth/login", method: .post, body: Self.json(["email": email, "password": "correct horse battery"]))
                    #expect(login.status == .ok)
                    let access = try #require(login.json["access_token"] as? String)
                    #expect(login.json["expires_in"] as? Int == 900)
                    #expect((login.json["refresh_token"] as? String)?.hasPrefix("rt_") == true)
                    let me = try await client.execute(uri: "/api/v1/auth/me", method: .get, headers: [.authorization: "Bearer \(access)"])
                    #expect(me.status == .ok)
                    #expect(me.json["email"] as? String == email)
                    let anonymous = try await client.execute(uri: "/api/v1/auth/me", method: .get)
                    #expect(anonymous.status == .unauthorized)
                }
            }
        }
    }

    @Test("refresh tokens rotate; reusing a spent one revokes the family; logout revokes")
    func refreshRotation() async throws {
        try await withAccounts { accounts in
            try await GatewayFixture.with(accounts: accounts) { fixture in
                try await fixture.application.test(.router) { client in
                    let email = Self.email()
                    _ = try await client.execute(uri: "/api/v1/auth/register", method: .post, body: Self.json(["email": email, "password": "correct horse battery"]))
                    let login = try await client.execute(uri: "/api/v1/auth/login", method: .post, body: Self.json(["email": email, "password": "correct horse battery"]))
                    let first = try #require(login.json["refresh_token"] as? String)

                    let rotated = try await client.execute(uri: "/api/v1/auth/refresh", method: .post, body: Self.json(["refresh_token": first]))
                    #expect(rotated.status == .ok)
                    let second = try #require(rotated.json["refresh_token"] as? String)
                    #expect(second != first)
                    #expect(rotated.json["access_token"] as? String != nil)

                    let reused = try await client.execute(uri: "/api/v1/auth/refresh", method: .post, body: Self.json(["refresh_token": first]))
                    #expect(reused.status == .unauthorized)
                    let afterTheft = try await client.execute(uri: "/api/v1/auth/refresh", method: .post, body: Self.json(["refresh_token": second]))
                    #expect(afterTheft.status == .unauthorized, "the reuse revoked the whole family")

                    let again = try await client.execute(uri: "/api/v1/auth/login", method: .post, body: Self.json(["email": email, "password": "correct horse battery"]))
                    let third = try #require(again.json["refresh_token"] as? String)
                    #expect(try await client.execute(uri: "/api/v1/auth/logout", method: .post, body: Self.json(["refresh_token": third])).status == .noContent)
                    #expect(try await client.execute(uri: "/api/v1/auth/refresh", method: .post, body: Self.json(["refresh_token": third])).status == .unauthorized)
                    #expect(try await client.execute(uri: "/api/v1/auth/refresh", method: .post, body: Self.json(["refresh_token": "rt_forged"])).status == .unauthorized)
                }
            }
        }
    }

    @Test("admins grant roles; an admin-role token opens the admin API, a customer's gets 403")
    func rolesAndAdminTokens() async throws {
        try await withAccounts { accounts in
            try await GatewayFixture.with(accounts: accounts) { fixture in
                try await fixture.application.test(.router) { client in
                    let email = Self.email()
                    let created = try await client.execute(uri: "/api/v1/auth/register", method: .post, body: Self.json(["email": email, "password": "correct horse battery"]))
                    let id = try #require(created.json["id"] as? String)
                    let customerLogin = try await client.execute(uri: "/api/v1/auth/login", method: .post, body: Self.json(["email": email, "password": "correct horse battery"]))
                    let customer = try #require(customerLogin.json["access_token"] as? String)
                    let refused = try await client.execute(uri: "/admin/v1/rooms", method: .get, headers: [.authorization: "Bearer \(customer)"])
                    #expect(refused.status == .forbidden)

                    let bad = try await client.execute(
                        uri: "/admin/v1/accounts/\(id)/roles", method: .put, headers: [.authorization: "Bearer \(GatewayFixture.adminToken)"],
                        body: Self.json(["roles": ["emperor"]])
                    )
                    #expect(bad.status == .unprocessableContent)
                    let granted = try await client.execute(
                        uri: "/admin/v1/accounts/\(id)/roles", method: .put, headers: [.authorization: "Bearer \(GatewayFixture.adminToken)"],
                        body: Self.json(["roles": ["admin", "organizer"]])
                    )
                    #expect(granted.status == .ok)
                    #expect(Set(granted.json["roles"] as? [String] ?? []) == ["admin", "organizer"])

                    let adminLogin = try await client.execute(uri: "/api/v1/auth/login", method: .post, body: Self.json(["email": email, "password": "correct horse battery"]))
                    let admin = try #require(adminLogin.json["access_token"] as? String)
                    let allowed = try await client.execute(uri: "/admin/v1/rooms", method: .get, headers: [.authorization: "Bearer \(admin)"])
                    #expect(allowed.status == .ok)
                }
            }
        }
    }

    @Test("login attempts are rate limited per email")
    func loginLimit() async throws {
        try await withAccounts { accounts in
            try await GatewayFixture.with(accounts: accounts) { fixture in
                try await fixture.application.test(.router) { client in
                    let email = Self.email()
                    var statuses: [HTTPResponse.Status] = []
                    for _ in 0..<6 {
                        statuses.append(try await client.execute(uri: "/api/v1/auth/login", method: .post, body: Self.json(["email": email, "password": "guess guess guess"])).status)
                    }
                    #expect(statuses.prefix(5).allSatisfy { $0 == .unauthorized })
                    #expect(statuses.last == .tooManyRequests)
                }
            }
        }
    }
}
