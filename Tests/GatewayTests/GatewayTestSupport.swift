import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Queue
import Redis
import ServiceKit
import ServiceTestSupport
import Synchronization
import Testing
import Tokens

/// A gateway on the tests' Redis in a key space of its own (its rooms, signing keys, rate-limit
/// buckets and traffic reports are no other test's), with one fresh room.
struct GatewayFixture {
    let components: GatewayComponents
    let event: String

    var redis: RedisClient { components.redis }
    var room: WaitingRoom { components.room }
    var keys: SigningKeyRing { components.passKeys }
    var configuration: GatewayConfiguration { components.configuration }
    var tickets: VisitorTickets { VisitorTickets(secret: configuration.visitorTicketSecret) }

    static let adminToken = "test-admin-token-0123456789"

    static func make(
        _ roomConfiguration: RoomConfiguration = RoomConfiguration(mode: .queue, releaseRate: 100),
        routes: RouteTable = RouteTable(),
        routesSource: RouteTableSource? = nil,
        accounts: AccountStore? = nil,
        maxConnections: Int? = nil,
        keySpace: RedisKeySpace = .unique()
    ) async throws -> GatewayFixture {
        let redis = RedisClient(configuration: try TestRedis.configuration(space: keySpace))
        var configuration = GatewayConfiguration(
            port: 0, adminToken: adminToken, releaseInterval: .zero, routes: routes,
            loginLimits: ProxyRoute(name: "auth-login-\(UUID().uuidString.prefix(8))", prefix: "/", upstreams: [], rateLimits: GatewayConfiguration.defaultLoginLimits.rateLimits),
            // Tests check the limiter's logic, not how fast a loaded test machine answers.
            rateLimitTimeout: .seconds(2),
            maxConnections: maxConnections,
            fleet: "test-\(UUID().uuidString.prefix(8))"
        )
        configuration.routesSource = routesSource
        let components = await GatewayComponents.make(configuration: configuration, redis: redis, accounts: accounts, logger: Logger(label: "gateway-tests"))
        let fixture = GatewayFixture(components: components, event: "gw-\(UUID().uuidString.prefix(8).lowercased())")
        do {
            try await components.room.configure(event: fixture.event, roomConfiguration)
        } catch {
            await fixture.tearDown()
            throw error
        }
        return fixture
    }

    /// Makes a fixture, runs `body`, and tears the fixture down whether `body` throws or not.
    /// Fixtures given the same `keySpace` are instances of one fleet.
    static func with(
        _ roomConfiguration: RoomConfiguration = RoomConfiguration(mode: .queue, releaseRate: 100),
        routes: RouteTable = RouteTable(),
        routesSource: RouteTableSource? = nil,
        accounts: AccountStore? = nil,
        maxConnections: Int? = nil,
        keySpace: RedisKeySpace = .unique(),
        _ body: (GatewayFixture) async throws -> Void
    ) async throws {
        let fixture = try await make(
            roomConfiguration, routes: routes, routesSource: routesSource, accounts: accounts, maxConnections: maxConnections, keySpace: keySpace
        )
        do {
            try await body(fixture)
        } catch {
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }

    var application: some ApplicationProtocol {
        Application(router: buildGatewayRouter(components), server: gatewayServer(components))
    }

    /// The application with its room snapshots refreshed every tick beside it, as the gateway runs
    /// them: live streams with a place token wait on those reads.
    var applicationRefreshingSnapshots: some ApplicationProtocol {
        Application(router: buildGatewayRouter(components), server: gatewayServer(components), services: [components.snapshots])
    }

    func tearDown() async {
        try? await components.httpClient.shutdown()
        await TestRedis.deleteKeySpace(of: redis)
    }

    /// An access token for a user with `roles`.
    func accessToken(user: String = "user-1", roles: [String] = ["customer"]) async throws -> String {
        try await components.accessTokens.issue(userID: user, roles: roles, email: "\(user)@example.com")
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

/// Bytes a log writes (the access log's batches, a log handler's lines), kept for a test to read
/// as JSON lines.
final class CapturedLines: Sendable {
    private let bytes = Mutex<[UInt8]>([])

    func append(_ written: some Sequence<UInt8>) {
        bytes.withLock { $0 += written }
    }

    /// A logger whose JSON lines (at `level` and above) land here.
    func logger(_ label: String, level: Logger.Level = .info) -> Logger {
        Logger(label: label) { label in
            var handler = JSONLogHandler(label: label) { data in self.append(data) }
            handler.logLevel = level
            return handler
        }
    }

    /// Each line parsed as a JSON object; a line that is not one is kept as `["unparsed": line]`.
    var objects: [[String: Any]] {
        bytes.withLock { String(decoding: $0, as: UTF8.self) }.split(separator: "\n").map {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["unparsed": String($0)]
        }
    }
}
