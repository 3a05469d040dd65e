import Booking
import Database
import Foundation
import Gateway
import Logging
import Queue
import Redis

/// A `demo` waiting room (queue mode, 5 visitors a second, admitted visitors sent to the shop)
/// unless one exists.
func seedDemoRoom(redis: RedisClient, logger: Logger) async throws {
    let room = WaitingRoom(redis: redis)
    do {
        _ = try await room.describe(event: "demo")
    } catch .roomNotFound {
        try await room.configure(event: "demo", RoomConfiguration(mode: .queue, releaseRate: 5, passTTL: 600, targetURL: "/shop/demo"))
        logger.info("seeded the demo waiting room", metadata: ["event": "demo"])
    }
}

/// A published `demo` event with three zones unless one exists; its inventory is (re)loaded
/// into Redis either way, without touching counts Redis already has.
func seedDemoEvent(_ catalog: Catalog, logger: Logger) async throws {
    let event = CatalogEvent(
        id: "demo", name: "Booking Rush Live", venue: "Loopback Arena", startsAt: Date().addingTimeInterval(30 * 86_400), maxPerUser: 6,
        zones: [
            CatalogZone(id: "floor", name: "Floor", priceMinor: 8_900, currency: "EUR", capacity: 500),
            CatalogZone(id: "lower", name: "Lower tier", priceMinor: 6_500, currency: "EUR", capacity: 1_500),
            CatalogZone(id: "upper", name: "Upper tier", priceMinor: 3_900, currency: "EUR", capacity: 3_000),
        ]
    )
    do {
        try await catalog.create(event, organizer: "system")
        try await catalog.publish(event: event.id)
        logger.info("seeded the demo event", metadata: ["event": "demo"])
    } catch where isUniqueViolation(error) {
        try await catalog.loadInventory(event: event.id)
    }
}

/// The operator console's login in development: `ADMIN_EMAIL` / `ADMIN_PASSWORD`.
struct DemoAdmin {
    var email: String
    var password: String
    /// What the start-up banner shows: the development default, never a password that was set.
    var passwordHint: String

    static func fromEnvironment() -> DemoAdmin {
        let environment = ProcessInfo.processInfo.environment
        let password = environment["ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        return DemoAdmin(
            email: environment["ADMIN_EMAIL"] ?? "admin@booking-rush.test",
            password: password ?? "rush-admin-password",
            passwordHint: password == nil ? "rush-admin-password" : "$ADMIN_PASSWORD"
        )
    }
}

/// An account with the `admin` role for the operator console, unless the email is taken.
func seedAdminAccount(_ admin: DemoAdmin, accounts: AccountStore, logger: Logger) async throws {
    do {
        let account = try await accounts.register(email: admin.email, password: admin.password)
        _ = try await accounts.setRoles(id: account.id, roles: ["admin"])
        logger.info("seeded the admin account", metadata: ["email": "\(admin.email)"])
    } catch AccountError.emailTaken {
        return
    }
}
