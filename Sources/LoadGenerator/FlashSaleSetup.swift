import Foundation
import Gateway
import Queue
import Redis
import Tokens

/// Signs access tokens with the gateway fleet's key ring in Redis, so load needs no logins.
struct AccessTokenMinter {
    let ring: SigningKeyRing
    let issuer: String

    init(redis: RedisClient, issuer: String) async throws {
        self.issuer = issuer
        self.ring = SigningKeyRing(redis: redis, issuer: issuer, namespace: GatewayConfiguration().accessKeyNamespace(in: redis.keySpace))
        try await ring.bootstrap()
    }

    func token(for user: String, roles: [String]) async throws -> String {
        let claims = AccessTokenClaims(
            issuer: issuer, audience: AccessTokens.audience, userID: user, roles: roles, email: nil, issuedAt: Date(), lifetime: AccessTokens.lifetime
        )
        return try await ring.sign(claims, type: AccessTokenClaims.type)
    }
}

/// Creates the sale (event, zone, waiting room) through the gateway and reads the outcome back.
struct FlashSaleSetup {
    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    let client: LoadClient
    let plan: FlashSalePlan
    let organizer: String
    let adminToken: String

    func prepare() async throws {
        let event: [String: any Sendable] = [
            "id": plan.event, "name": "Flash sale \(plan.scenario)", "venue": "Load test", "starts_at": "2031-01-01T20:00:00Z",
            "max_per_user": plan.quantity,
            "zones": [["id": plan.zone, "name": "Floor", "price_minor": 5_000, "currency": "EUR", "capacity": plan.seats] as [String: any Sendable]],
        ]
        try expect(201, try await client.send(.POST, "/api/v1/events", json: event, headers: [("Authorization", "Bearer \(organizer)")]), "create the event")
        try expect(204, try await client.send(.POST, "/api/v1/events/\(plan.event)/publish", headers: [("Authorization", "Bearer \(organizer)")]), "publish it")
        let room: [String: any Sendable] = [
            "mode": "queue", "release_rate": plan.releaseRate, "max_active": 0, "pass_ttl": 600, "idle_timeout": plan.idleTimeout,
        ]
        try expect(200, try await client.send(.PUT, "/admin/v1/rooms/\(plan.event)", json: room, headers: [("Authorization", "Bearer \(adminToken)")]), "open its waiting room")
    }

    /// The zone's final counts from the booking service, once the payments' webhooks have
    /// confirmed what was paid (or after 20 s).
    func inventory(paidSeats: Int) async throws -> [String: Int] {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let counts = try await readInventory()
            if (counts["sold"] ?? 0) >= paidSeats || ContinuousClock.now > deadline { return counts }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private func readInventory() async throws -> [String: Int] {
        let response = try await client.send(.GET, "/api/v1/events/\(plan.event)/inventory", headers: [("Authorization", "Bearer \(organizer)")])
        try expect(200, response, "read the inventory")
        guard let zone = (response.json["zones"] as? [any Sendable])?.first as? [String: any Sendable] else { throw SetupError(description: "no zone in the inventory") }
        return zone.compactMapValues { $0 as? Int }
    }

    /// After the idle timeout, asks each visitor who went silent what became of their place.
    func checkAbandoners(tokens: [String], elapsedSeconds: Double) async throws -> [String: Int] {
        let silent = (0..<plan.users).filter(plan.abandons)
        guard !silent.isEmpty else { return [:] }
        let wait = Double(plan.idleTimeout) + 2 - elapsedSeconds
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
        var outcomes: [String: Int] = [:]
        for index in silent {
            let response = try await client.send(.GET, "/api/v1/queue/\(plan.event)/status", headers: [("Authorization", "Bearer \(tokens[index])")])
            let outcome = response.status == 410 ? "lost_place" : response.string("status").map { "still_\($0)" } ?? response.kind
            outcomes[outcome, default: 0] += 1
        }
        return outcomes
    }

    private func expect(_ status: Int, _ response: LoadResponse, _ what: String) throws {
        guard response.status == status else {
            throw SetupError(description: "could not \(what): HTTP \(response.status) \(response.json["detail"] as? String ?? "")")
        }
    }
}
