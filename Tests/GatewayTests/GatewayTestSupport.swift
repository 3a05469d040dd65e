import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Queue
import Redis
import ServiceKit
import Testing

/// A gateway on the shared Redis with its own pass-key namespace and one fresh room.
struct GatewayFixture {
    let redis: RedisClient
    let room: WaitingRoom
    let keys: PassKeyRing
    let configuration: GatewayConfiguration
    let event: String

    static let adminToken = "test-admin-token-0123456789"

    static func make(_ roomConfiguration: RoomConfiguration = RoomConfiguration(mode: .queue, releaseRate: 100)) async throws -> GatewayFixture {
        let url = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:16379/0"
        let redis = RedisClient(configuration: try RedisConfiguration(url: url))
        let namespace = "test:gw-keys:\(UUID().uuidString)"
        let configuration = GatewayConfiguration(
            port: 0, adminToken: adminToken, passKeyNamespace: namespace, releaseInterval: .zero
        )
        let keys = PassKeyRing(redis: redis, namespace: namespace)
        try await keys.bootstrap()
        let room = WaitingRoom(redis: redis)
        let event = "gw-\(UUID().uuidString.prefix(8).lowercased())"
        try await room.configure(event: event, roomConfiguration)
        return GatewayFixture(redis: redis, room: room, keys: keys, configuration: configuration, event: event)
    }

    var application: some ApplicationProtocol {
        Application(router: buildGatewayRouter(configuration: configuration, room: room, keys: keys))
    }

    func tearDown() async {
        try? await room.delete(event: event)
        _ = try? await redis.send("DEL", keys.keysKey, keys.activeKey)
        await redis.shutdown()
    }

    /// Releases until `count` more visitors were admitted (or a second passes).
    func release(atLeast count: Int) async throws {
        var admitted = 0
        let deadline = ContinuousClock.now + .seconds(2)
        while admitted < count, ContinuousClock.now < deadline {
            admitted += try await room.release(event: event).admitted
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

extension TestResponse {
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    var problem: ProblemDetails? {
        guard headers[.contentType] == "application/problem+json" else { return nil }
        return try? JSONDecoder().decode(ProblemDetails.self, from: body)
    }

    /// The value of a cookie set by the response.
    func cookie(_ name: String) -> String? {
        for field in headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";").first ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == name { return String(parts[1]) }
        }
        return nil
    }
}
