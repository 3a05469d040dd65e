import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceKit
import ServiceTestSupport
import Synchronization
import Testing

@testable import Gateway

@Suite("The route table reloads from its file without a restart")
struct RouteTableReloadTests {
    static let admin: HTTPFields = [.authorization: "Bearer \(GatewayFixture.adminToken)"]

    /// A route file of its own in a temporary directory, removed when `body` ends.
    static func withRouteFile(_ table: RouteTable, _ body: (String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("routes.json").path
        try write(table, to: path)
        try await body(path)
    }

    static func write(_ table: RouteTable, to path: String) throws {
        try JSONEncoder().encode(table).write(to: URL(fileURLWithPath: path))
    }

    @Test("a reload puts the file's table in force and tells observers; a bad file or none leaves the table as it was, and the failure is kept until a reload takes")
    func liveTable() async throws {
        let first = RouteTable(routes: [ProxyRoute(name: "a", prefix: "/a", upstreams: ["http://127.0.0.1:9001"])])
        try await Self.withRouteFile(first) { path in
            let source = RouteTableSource(path: path, environment: ["ROUTE_B_UPSTREAMS": "http://127.0.0.1:9003", "HOME": "/root"])
            #expect(source.environment == ["ROUTE_B_UPSTREAMS": "http://127.0.0.1:9003"], "only route overrides are kept")
            let live = LiveRouteTable(try RouteTable.load(path: path, environment: source.environment), source: source)
            let seen = Mutex<[[String]]>([])
            live.observe { version in seen.withLock { $0.append(version.table.routes.map(\.name)) } }
            #expect(seen.withLock { $0 } == [["a"]], "an observer starts with the table in force")
            let startDigest = live.current.digest
            #expect(live.current.generation == 1)

            var second = first
            second.routes.append(ProxyRoute(name: "b", prefix: "/b", upstreams: ["http://127.0.0.1:9002"]))
            try Self.write(second, to: path)
            let version = try live.reload()
            #expect(version.generation == 2 && live.current.generation == 2)
            #expect(version.table.routes.map(\.upstreams) == [["http://127.0.0.1:9001"], ["http://127.0.0.1:9003"]], "overrides apply again")
            #expect(version.digest != startDigest)
            #expect(seen.withLock { $0 } == [["a"], ["a", "b"]])

            try "{\"routes\": [{\"name\": \"c\"".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: RouteTableReloadError.self) { try live.reload() }
            try Self.write(RouteTable(routes: [ProxyRoute(name: "d", prefix: "no-slash", upstreams: ["http://127.0.0.1:9001"])]), to: path)
            let refusal = #expect(throws: RouteTableReloadError.self) { try live.reload() }
            guard case .invalid(let reason) = refusal else { throw try #require(refusal) }
            #expect(reason.contains("prefix must start with /"), "\(reason)")
            #expect(live.current.generation == 2 && live.current.table.routes.map(\.name) == ["a", "b"], "the table in force stays")
            #expect(seen.withLock { $0.count } == 2, "observers hear of tables put in force only")
            #expect(live.lastReloadFailure?.contains("prefix must start with /") == true, "the failure is kept for the fleet's view: \(live.lastReloadFailure ?? "")")

            try Self.write(first, to: path)
            #expect(try live.reload().digest == startDigest, "the same table has the same digest")
            #expect(live.lastReloadFailure == nil, "a reload that takes clears it")
        }
        #expect(throws: RouteTableReloadError.noSource) { try LiveRouteTable(RouteTable(), source: nil).reload() }
        #expect(LiveRouteTable(RouteTable(), source: nil).lastReloadFailure == nil)
    }

    @Test("through the admin API: new routes serve at once, a request under way finishes on its old route, a bad file is a 422")
    func liveGateway() async throws {
        try await UpstreamServer.with(delay: .seconds(1)) { old in
            try await UpstreamServer.with { new in
                let first = RouteTable(routes: [
                    ProxyRoute(name: "echo", prefix: "/api/echo", upstreams: [old.url]),
                    ProxyRoute(name: "buy", prefix: "/api/events", upstreams: [old.url]),
                ])
                try await Self.withRouteFile(first) { path in
                    try await GatewayFixture.with(routes: first, routesSource: RouteTableSource(path: path, environment: [:])) { fixture in
                        try await fixture.application.test(.live) { client in
                            let port = try #require(client.port)
                            #expect(try ReverseProxyTests.echo(try await client.execute(uri: "/api/echo/1", method: .get)).upstreamPort == old.port)
                            let shown = try await client.execute(uri: "/admin/v1/routes", method: .get, headers: Self.admin)
                            #expect(shown.status == .ok)
                            #expect(shown.json["generation"] as? Int == 1 && shown.json["source"] as? String == path)

                            let callsBefore = old.callCount
                            let underWay = Task {
                                try await RawConnection.exchange(port: port, "POST /api/events/e1/buy HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\r\n") { text, _ in
                                    text.contains("\r\n\r\n{")
                                }
                            }
                            while old.callCount == callsBefore { try await Task.sleep(for: .milliseconds(10)) }

                            try Self.write(RouteTable(routes: [
                                ProxyRoute(name: "echo", prefix: "/api/echo", upstreams: [new.url]),
                                ProxyRoute(name: "more", prefix: "/api/echo/more", upstreams: [old.url]),
                            ]), to: path)
                            let reloaded = try await client.execute(uri: "/admin/v1/routes/reload", method: .post, headers: Self.admin)
                            #expect(reloaded.status == .ok)
                            #expect(reloaded.json["generation"] as? Int == 2)
                            #expect(((reloaded.json["table"] as? [String: Any])?["routes"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["echo", "more"])

                            #expect(try ReverseProxyTests.echo(try await client.execute(uri: "/api/echo/2", method: .get)).upstreamPort == new.port)
                            #expect(try ReverseProxyTests.echo(try await client.execute(uri: "/api/echo/more/3", method: .get)).upstreamPort == old.port, "a new route")
                            #expect(try await client.execute(uri: "/api/events/e2/buy", method: .post).status == .notFound, "a removed route is gone")
                            let finished = try await underWay.value
                            #expect(finished.hasPrefix("HTTP/1.1 201 "), "the request under way finished on its old route: \(finished)")

                            try "not json".write(toFile: path, atomically: true, encoding: .utf8)
                            let refused = try await client.execute(uri: "/admin/v1/routes/reload", method: .post, headers: Self.admin)
                            #expect(refused.status.code == 422)
                            #expect(refused.problem?.type == ProblemDetails.typeBase + "route-table-invalid")
                            #expect(try ReverseProxyTests.echo(try await client.execute(uri: "/api/echo/4", method: .get)).upstreamPort == new.port)
                            #expect(try await client.execute(uri: "/admin/v1/routes", method: .get, headers: Self.admin).json["generation"] as? Int == 2)
                            #expect(try await client.execute(uri: "/admin/v1/routes/reload", method: .post).status == .unauthorized)
                        }
                    }
                }
            }
        }
    }

    @Test("a gateway started without a route file answers a reload with 409")
    func withoutFile() async throws {
        try await GatewayFixture.with { fixture in
            try await fixture.application.test(.router) { client in
                let refused = try await client.execute(uri: "/admin/v1/routes/reload", method: .post, headers: Self.admin)
                #expect(refused.status == .conflict)
                #expect(refused.problem?.type == ProblemDetails.typeBase + "route-table-not-reloadable")
                let shown = try await client.execute(uri: "/admin/v1/routes", method: .get, headers: Self.admin)
                #expect(shown.status == .ok && shown.json["source"] == nil && shown.json["generation"] as? Int == 1)
            }
        }
    }

    /// Two instances of one fleet over the test Redis (its keys dropped after), each with its own
    /// route file holding ``fleetTable``; `body` gets the instance asked, the other one and their files' paths.
    static func withFleetOfTwo(
        retryDelays: [Duration] = FleetRouteReloads.retryDelays,
        _ body: (FleetRouteReloads, FleetRouteReloads, String, String) async throws -> Void
    ) async throws {
        try await TestRedis.withClient { redis in
            let fleet = "test-\(UUID().uuidString.prefix(8))"
            try await Self.withRouteFile(fleetTable) { first in
                try await Self.withRouteFile(fleetTable) { second in
                    let instance = { (path: String) in
                        FleetRouteReloads(
                            redis: redis, fleet: fleet, routeTable: LiveRouteTable(fleetTable, source: RouteTableSource(path: path, environment: [:])),
                            logger: Logger(label: "test"), retryDelays: retryDelays
                        )
                    }
                    try await body(instance(first), instance(second), first, second)
                }
            }
        }
    }

    static let fleetTable = RouteTable(routes: [ProxyRoute(name: "a", prefix: "/a", upstreams: ["http://127.0.0.1:9001"])])

    /// ``fleetTable`` with a second route.
    static var changedFleetTable: RouteTable {
        var changed = fleetTable
        changed.routes.append(ProxyRoute(name: "b", prefix: "/b", upstreams: ["http://127.0.0.1:9002"]))
        return changed
    }

    @Test("a fleet reload: the instance asked reloads at once, every other one when it next looks; a bad file asks nothing of the fleet")
    func fleet() async throws {
        try await Self.withFleetOfTwo { asked, other, first, second in
            try await other.check()
            #expect(other.routeTable.current.generation == 1, "the count found at start is already done")

            try Self.write(Self.changedFleetTable, to: first)
            try Self.write(Self.changedFleetTable, to: second)
            #expect(try await asked.reloadFleet().generation == 2)
            try await asked.check()
            #expect(asked.routeTable.current.generation == 2, "the instance asked does not reload twice")
            try await other.check()
            #expect(other.routeTable.current.generation == 2 && other.routeTable.current.table.routes.map(\.name) == ["a", "b"])
            try await other.check()
            #expect(other.routeTable.current.generation == 2, "once per request")

            try "[".write(toFile: first, atomically: true, encoding: .utf8)
            await #expect(throws: RouteTableReloadError.self) { try await asked.reloadFleet() }
            try await other.check()
            #expect(other.routeTable.current.generation == 2, "nothing asked of the fleet")
        }
    }

    @Test("an instance whose file did not load tries it again a bounded number of times, so a file that arrives late is taken up")
    func fleetRetry() async throws {
        try await Self.withFleetOfTwo(retryDelays: [.zero, .zero]) { asked, late, first, second in
            try await late.check()
            try Self.write(Self.changedFleetTable, to: first)
            try "[".write(toFile: second, atomically: true, encoding: .utf8)

            #expect(try await asked.reloadFleet().generation == 2)
            try await late.check()
            #expect(late.routeTable.current.generation == 1 && late.routeTable.lastReloadFailure != nil, "its file is not there yet")
            try Self.write(Self.changedFleetTable, to: second)
            try await late.check()
            #expect(late.routeTable.current.generation == 2, "tried again without another fleet reload")
            #expect(late.routeTable.lastReloadFailure == nil)
            try await late.check()
            #expect(late.routeTable.current.generation == 2, "no more tries once it took")

            try "[".write(toFile: second, atomically: true, encoding: .utf8)
            #expect(try await asked.reloadFleet().generation == 3)
            for _ in 0..<3 { try await late.check() }
            try Self.write(Self.changedFleetTable, to: second)
            try await late.check()
            #expect(late.routeTable.current.generation == 2, "after its last retry, it waits for the next fleet reload")
            _ = try await asked.reloadFleet()
            try await late.check()
            #expect(late.routeTable.current.generation == 3)
        }
    }

    @Test("the admin API asks the fleet with scope=fleet and refuses another scope")
    func fleetScope() async throws {
        let table = RouteTable()
        try await Self.withRouteFile(table) { path in
            try await GatewayFixture.with(routes: table, routesSource: RouteTableSource(path: path, environment: [:])) { fixture in
                try await fixture.application.test(.router) { client in
                    let reloaded = try await client.execute(uri: "/admin/v1/routes/reload?scope=fleet", method: .post, headers: Self.admin)
                    #expect(reloaded.status == .ok && reloaded.json["generation"] as? Int == 2)
                    #expect(try await fixture.redis.getString(fixture.components.fleetReloads.countKey) == "1")
                    let refused = try await client.execute(uri: "/admin/v1/routes/reload?scope=everywhere", method: .post, headers: Self.admin)
                    #expect(refused.status == .badRequest && refused.problem?.type == ProblemDetails.typeBase + "invalid-query")
                    #expect(try await client.execute(uri: "/admin/v1/routes", method: .get, headers: Self.admin).json["generation"] as? Int == 2)
                }
            }
        }
    }

    @Test("a connection open through a reload is judged by the new trusted_proxies (a load balancer's connections last)")
    func trustFollowsReload() async throws {
        try await UpstreamServer.with { upstream in
            let trusting = ReverseProxyTests.routes(upstream.url, trusted: ["127.0.0.1/32"])
            try await Self.withRouteFile(trusting) { path in
                try await GatewayFixture.with(routes: trusting, routesSource: RouteTableSource(path: path, environment: [:])) { fixture in
                    try await fixture.application.test(.live) { client in
                        let port = try #require(client.port)
                        let request = "GET /api/echo/x HTTP/1.1\r\nHost: gw\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n"
                        var reloaded = false
                        let text = try await RawConnection.exchange(port: port, request, limit: .seconds(10)) { received, outbound in
                            let answers = received.components(separatedBy: "HTTP/1.1 200 OK").count - 1
                            if answers == 1, received.hasSuffix("}"), !reloaded {
                                reloaded = true
                                try Self.write(ReverseProxyTests.routes(upstream.url), to: path)
                                try fixture.components.routeTable.reload()
                                try await outbound.write(ByteBuffer(string: request))
                            }
                            return answers == 2 && received.hasSuffix("}")
                        }
                        let clients = text.components(separatedBy: "\"x-gateway-client-ip\":\"").dropFirst().map { $0.prefix { $0 != "\"" } }
                        #expect(clients == ["203.0.113.9", "127.0.0.1"], "trusted before the reload, not after: \(text)")
                    }
                }
            }
        }
    }

    @Test("/ready checks the upstreams of the table in force")
    func readinessFollowsReload() async throws {
        try await UpstreamServer.with { upstream in
            let live = RouteTable(routes: [ProxyRoute(name: "echo", prefix: "/api/echo", upstreams: [upstream.url])])
            try await Self.withRouteFile(live) { path in
                try await GatewayFixture.with(routes: live, routesSource: RouteTableSource(path: path, environment: [:])) { fixture in
                    try await fixture.application.test(.router) { client in
                        #expect(try await client.execute(uri: "/ready", method: .get).status == .ok)
                        var withDead = live
                        withDead.routes.append(ProxyRoute(name: "dead", prefix: "/api/dead", upstreams: ["http://127.0.0.1:1"]))
                        try Self.write(withDead, to: path)
                        try fixture.components.routeTable.reload()
                        let unready = try await client.execute(uri: "/ready", method: .get)
                        #expect(unready.status == .serviceUnavailable && unready.problem?.detail?.contains("upstream http://127.0.0.1:1") == true, "\(unready.json)")
                        try Self.write(live, to: path)
                        try fixture.components.routeTable.reload()
                        #expect(try await client.execute(uri: "/ready", method: .get).status == .ok, "a removed upstream is no longer checked")
                    }
                }
            }
        }
    }

    @Test("check-routes reports a file as a reload would load it, with the digest the gateway would show")
    func check() async throws {
        let table = RouteTable(routes: [
            ProxyRoute(name: "all", prefix: "/api", upstreams: ["http://127.0.0.1:9001"]),
            ProxyRoute(name: "reserve", prefix: "/api/reserve", methods: ["POST"], upstreams: ["http://127.0.0.1:9002"]),
            ProxyRoute(name: "join", prefix: "/api/queue/*/join", methods: ["POST"], upstreams: [], local: true),
        ])
        try await Self.withRouteFile(table) { path in
            let overridden = ["ROUTE_ALL_UPSTREAMS": "http://127.0.0.1:9009"]
            let report = try RouteTableCheck.report(path: path, environment: overridden)
            let live = LiveRouteTable(try RouteTable.load(path: path, environment: overridden), source: nil)
            #expect(report.split(separator: "\n") == [
                "route table \(path) is valid: 3 routes, digest \(live.current.digest)",
                "  join: POST /api/queue/*/join -> (answered by the gateway)",
                "  reserve: POST /api/reserve -> http://127.0.0.1:9002",
                "  all: * /api -> http://127.0.0.1:9009",
            ], "\(report)")
            try "{\"routes\": [{\"name\": \"x\", \"prefix\": \"/x\"}]}".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: GatewayConfigurationError.self) { try RouteTableCheck.report(path: path, environment: [:]) }
        }
    }
}

