import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Redis
import ServiceKit
import ServiceTestSupport
import Synchronization
import Testing

@Suite("Traffic per route and across the fleet")
struct FleetTrafficTests {
    @Test("latencies fall into buckets whose sums give the percentiles")
    func histogram() {
        var histogram = LatencyHistogram()
        #expect(histogram.percentile(0.5) == nil)
        for _ in 0..<98 { histogram.record(.microseconds(800)) }
        histogram.record(.milliseconds(40))
        histogram.record(.seconds(30))
        #expect(histogram.percentile(0.5) == 1, "800 µs falls in the bucket up to 1 ms")
        #expect(histogram.percentile(0.99) == 50, "the 99th of 100 is the 40 ms response")
        #expect(histogram.percentile(1) == 10_000, "slower than the last bound counts at the last bound")
        var other = LatencyHistogram()
        for _ in 0..<300 { other.record(.milliseconds(120)) }
        histogram.add(other)
        #expect(histogram.percentile(0.5) == 150)
    }

    @Test("the window counts each route's statuses and latencies over the minute")
    func routesInTheWindow() {
        let clock = Mutex<Int64>(5_000)
        let window = TrafficWindow(now: { clock.withLock { $0 } })
        window.record(.ok, route: "bookings", duration: .milliseconds(4))
        window.record(.tooManyRequests, route: "bookings", duration: .microseconds(100))
        window.record(.badGateway, route: "payments", duration: .seconds(2))
        clock.withLock { $0 = 5_001 }
        window.record(.ok, route: "bookings", duration: .milliseconds(4))
        clock.withLock { $0 = 5_002 }
        let report = window.report(instance: "a")
        #expect(report.routes.map(\.route) == ["bookings", "payments"])
        #expect(report.routes[0].total == 3 && report.routes[0].rateLimited == 1 && report.routes[0].clientErrors == 1)
        #expect(report.routes[1].serverErrors == 1)
        let summary = window.summary(instance: "a")
        #expect(summary.routes.first?.route == "bookings", "busiest first")
        #expect(summary.routes.first?.p99Milliseconds == 5)
        #expect(summary.routes.last?.p50Milliseconds == 2_000)
        clock.withLock { $0 = 5_061 }
        #expect(window.report(instance: "a").routes.map(\.route) == ["bookings"], "second 5000 has left the window")
    }

    @Test("responses counted on many threads at once all reach the report, each second summed over the threads")
    func countsFromManyThreads() {
        let clock = Mutex<Int64>(7_000)
        let window = TrafficWindow(now: { clock.withLock { $0 } })
        DispatchQueue.concurrentPerform(iterations: 12) { thread in
            for index in 0..<500 {
                window.record(index % 5 == 0 ? .badGateway : .ok, route: thread % 2 == 0 ? "even" : "odd", duration: .milliseconds(3))
            }
        }
        clock.withLock { $0 = 7_001 }
        DispatchQueue.concurrentPerform(iterations: 3) { _ in window.record(.notFound, route: "odd") }
        clock.withLock { $0 = 7_002 }
        let report = window.report(instance: "a")
        #expect(report.perSecond.suffix(2).map(\.total) == [6_000, 3])
        #expect(report.perSecond.suffix(2).map(\.serverErrors) == [1_200, 0])
        #expect(report.perSecond.last?.clientErrors == 3)
        #expect(report.routes.map(\.route) == ["even", "odd"])
        #expect(report.routes.map(\.total) == [3_000, 3_003])
        #expect(report.routes.first?.latency.percentile(1) == 3, "the latencies of every thread, in their bucket")
    }

    @Test("the fleet's view sums every instance that reported lately, and forgets one that stopped")
    func fleetThroughRedis() async throws {
        try await TestRedis.withClient { redis in
            let fleet = "test-\(UUID().uuidString.prefix(8))"
            let clock = SettableClock(Int64(Date().timeIntervalSince1970) - 1)
            let gateways = ["a", "b", "c"].map { name in
                // gw-c runs another route table than the other two.
                let routes = RouteTable(routes: name == "c" ? [ProxyRoute(name: "c", prefix: "/c", upstreams: ["http://127.0.0.1:9"])] : [])
                return FleetTraffic(
                    window: TrafficWindow(now: { clock.now }), redis: redis, fleet: fleet, instance: "gw-\(name)",
                    routeTable: LiveRouteTable(routes, source: nil), logger: Logger(label: "test")
                )
            }
            try await checkFleet(gateways, redis: redis, clock: clock)
        }
    }

    private func checkFleet(_ gateways: [FleetTraffic], redis: RedisClient, clock: SettableClock) async throws {
        for (index, gateway) in gateways.enumerated() {
            for _ in 0...index { gateway.window.record(.ok, route: "events", duration: .milliseconds(3)) }
            gateway.window.record(.serviceUnavailable, route: "bookings-\(index)", duration: .milliseconds(10))
        }
        clock.now += 1
        for gateway in gateways.dropFirst() { try await gateway.publish() }

        let summary = try await gateways[0].summary(now: Date(timeIntervalSince1970: Double(clock.now)))
        #expect(summary.scope == "fleet")
        #expect(summary.instances.map(\.instance) == ["gw-a", "gw-b", "gw-c"])
        #expect(summary.instances.map(\.total) == [2, 3, 4])
        #expect(summary.total == 9)
        #expect(summary.serverErrors == 3)
        #expect(summary.perSecond.last?.total == 9, "the instances' seconds line up")
        #expect(summary.routes.first { $0.route == "events" }?.total == 6)
        #expect(Set(summary.routes.map(\.route)) == ["events", "bookings-0", "bookings-1", "bookings-2"])
        let stamps = summary.instances.map(\.routeTable)
        #expect(stamps.allSatisfy { $0?.generation == 1 })
        #expect(stamps[0]?.digest == gateways[1].routeTable.current.digest && stamps[1] == stamps[0], "each instance's own table")
        #expect(stamps[2]?.digest == gateways[2].routeTable.current.digest && stamps[2] != stamps[0], "a table that differs shows")

        _ = try await redis.delete([gateways[2].reportKey("gw-c")])
        let later = try await gateways[0].summary(now: Date(timeIntervalSince1970: Double(clock.now)))
        #expect(later.instances.map(\.instance) == ["gw-a", "gw-b"], "an instance whose report expired is not counted")
        let muchLater = try await gateways[0].summary(now: Date().addingTimeInterval(60))
        #expect(muchLater.instances.map(\.instance) == ["gw-a"], "instances silent past the lifetime leave the registry")
        #expect(try await redis.sortedSetMembers(gateways[0].registryKey, scoresFrom: 0, limit: 10).isEmpty)
    }

    @Test("the admin API answers the fleet's view, or this instance's alone with scope=instance")
    func adminRoute() async throws {
        try await GatewayFixture.with { fixture in
            let other = FleetTraffic(
                window: TrafficWindow(), redis: fixture.redis, fleet: fixture.configuration.fleet, instance: "other-gateway",
                routeTable: LiveRouteTable(RouteTable(), source: nil), logger: Logger(label: "test")
            )
            other.window.record(.ok, route: "events", duration: .milliseconds(1))
            try await Task.sleep(for: .milliseconds(1_100))
            try await other.publish()
            try await fixture.application.test(.router) { client in
                let fleet = try await client.execute(uri: "/admin/v1/traffic", method: .get, headers: AdminAndPageTests.admin)
                #expect(fleet.json["scope"] as? String == "fleet")
                let instances = (fleet.json["instances"] as? [[String: Any]])?.compactMap { $0["instance"] as? String }
                #expect(instances?.contains("other-gateway") == true)
                #expect(instances?.count == 2)
                let own = try await client.execute(uri: "/admin/v1/traffic?scope=instance", method: .get, headers: AdminAndPageTests.admin)
                #expect(own.json["scope"] as? String == "instance")
                #expect((own.json["instances"] as? [Any])?.count == 1)
                let bogus = try await client.execute(uri: "/admin/v1/traffic?scope=everywhere", method: .get, headers: AdminAndPageTests.admin)
                #expect(bogus.status == .badRequest && bogus.problem?.type == ProblemDetails.typeBase + "invalid-query", "not read as the fleet's view")
                for query in ["limit=abc", "limit=0", "limit=101"] {
                    let refused = try await client.execute(uri: "/admin/v1/rooms/\(fixture.event)/adaptive?\(query)", method: .get, headers: AdminAndPageTests.admin)
                    #expect(refused.status == .badRequest && refused.problem?.type == ProblemDetails.typeBase + "invalid-query", "\(query)")
                }
                let history = try await client.execute(uri: "/admin/v1/rooms/\(fixture.event)/history?limit=-5", method: .get, headers: AdminAndPageTests.admin)
                #expect(history.status == .badRequest && history.problem?.type == ProblemDetails.typeBase + "invalid-query")
            }
        }
    }
}

/// A clock a test sets by hand, shared with the windows it drives.
final class SettableClock: Sendable {
    private let second: Mutex<Int64>

    init(_ second: Int64) { self.second = Mutex(second) }

    var now: Int64 {
        get { second.withLock { $0 } }
        set { second.withLock { $0 = newValue } }
    }
}

@Suite("Two gateway processes under one instance name are found out")
struct InstanceNameClaimTests {
    @Test("a second process publishing under a name is flagged in both reports, logged and counted; a restart is not")
    func sharedName() async throws {
        _ = metricsBootstrapped
        try await TestRedis.withClient { redis in
            let fleet = "test-\(UUID().uuidString.prefix(8))"
            let name = "gw-\(UUID().uuidString.prefix(8).lowercased())"
            let lines = CapturedLines()
            let logger = lines.logger("name-test")
            let make = { (instance: String) in
                FleetTraffic(
                    window: TrafficWindow(), redis: redis, fleet: fleet, instance: instance,
                    routeTable: LiveRouteTable(RouteTable(), source: nil), logger: logger
                )
            }
            let stopped = make(name)
            try await stopped.publish()
            let restarted = make(name)
            for _ in 0..<2 { try await restarted.publish() }
            #expect(!restarted.nameClaim.isShared, "the report of a process that stopped, replaced once, is no conflict")

            let second = make(name)
            let alone = make(name + "-other")
            for _ in 0..<2 {
                try await second.publish()
                try await restarted.publish()
                try await alone.publish()
            }
            #expect(restarted.nameClaim.isShared && second.nameClaim.isShared, "each sees the other's writes between its own")
            #expect(!alone.nameClaim.isShared)
            let summary = try await alone.summary()
            #expect(summary.instances.map(\.instance) == [name, name + "-other"], "the fleet's view holds one of the two")
            #expect(summary.instances.map(\.nameShared) == [true, false])

            let errors = lines.objects.filter { ($0["message"] as? String)?.hasPrefix("another gateway process publishes") == true }
            #expect(errors.count == 2, "one error per process, when the conflict begins: \(errors)")
            #expect(Set(errors.compactMap { $0["other_process"] as? String }) == [restarted.nameClaim.process, second.nameClaim.process])
            let metrics = String(decoding: ServiceMetrics.registry.emitToBuffer(), as: UTF8.self)
            #expect(metrics.contains(#"gateway_fleet_instance_name_shared{name="\#(name)"} 1"#))
            #expect(metrics.contains(#"gateway_fleet_instance_name_shared{name="\#(name)-other"} 0"#))
            _ = try await redis.delete([alone.registryKey, alone.reportKey(name), alone.reportKey(name + "-other")])
        }
    }

    @Test("a conflict is forgotten once the other process has stopped writing for a while")
    func conflictEnds() {
        let clock = Mutex(ContinuousClock.now)
        let claim = InstanceNameClaim(process: "mine") { clock.withLock { $0 } }
        let logger = Logger(label: "test")
        claim.published(replacing: "theirs", instance: "gw", fleet: "f", logger: logger)
        #expect(!claim.isShared, "the first report replaces whatever an earlier process left")
        claim.published(replacing: "mine", instance: "gw", fleet: "f", logger: logger)
        claim.published(replacing: "theirs", instance: "gw", fleet: "f", logger: logger)
        #expect(claim.isShared)
        clock.withLock { $0 = $0.advanced(by: InstanceNameClaim.memory - .milliseconds(1)) }
        claim.published(replacing: "mine", instance: "gw", fleet: "f", logger: logger)
        #expect(claim.isShared)
        clock.withLock { $0 = $0.advanced(by: .milliseconds(2)) }
        claim.published(replacing: "mine", instance: "gw", fleet: "f", logger: logger)
        #expect(!claim.isShared)
    }
}
