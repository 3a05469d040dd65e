import Foundation
import Testing

@testable import Gateway

@Suite("Route table files")
struct RouteTableTests {
    static func write(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appending(path: "routes-\(UUID().uuidString).json").path()
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a file with every field loads; defaults fill the rest; environment overrides upstreams")
    func load() throws {
        let path = try Self.write("""
            {
              "routes": [
                { "name": "booking", "prefix": "/api/v1/bookings", "upstreams": ["http://127.0.0.1:8081"], "timeout_ms": 3000,
                  "max_body_bytes": 65536, "auth": "required", "roles": ["customer"], "idempotency": "required",
                  "rate_limits": [ { "name": "per-user", "key": "user", "limit": 10, "period_s": 1, "burst": 20, "fail": "closed" } ],
                  "queue_pass": { "event_from": "body:event_id", "single_use": true } },
                { "name": "events", "prefix": "/api/v1/events", "upstreams": ["http://127.0.0.1:8081"] }
              ],
              "trusted_proxies": ["10.0.0.0/8", "::1/128"]
            }
            """)
        let table = try RouteTable.load(path: path, environment: ["ROUTE_EVENTS_UPSTREAMS": "http://10.1.1.1:9000, http://10.1.1.2:9000"])
        #expect(table.routes.count == 2)
        let booking = try #require(table.route(method: "GET", path: "/api/v1/bookings/42"))
        #expect(booking.authentication == .required)
        #expect(booking.rateLimits.first?.effectiveBurst == 20)
        #expect(booking.rateLimits.first?.fail == .closed)
        #expect(booking.queuePass == QueuePassPolicy(eventFrom: "body:event_id", singleUse: true))
        let events = try #require(table.route(method: "GET", path: "/api/v1/events"))
        #expect(events.upstreams == ["http://10.1.1.1:9000", "http://10.1.1.2:9000"])
        #expect(events.timeoutMilliseconds == 10_000)
        #expect(events.idempotency == .off)
        #expect(table.idempotencyRetention == 86_400)
        #expect(table.route(method: "GET", path: "/api/v1/eventsx") == nil, "prefixes match whole segments")
        #expect(table.route(method: "GET", path: "/health") == nil)
    }

    @Test("routes match by method and by path pattern; the most specific wins")
    func patterns() throws {
        let path = try Self.write("""
            {
              "routes": [
                { "name": "bookings", "prefix": "/api/v1/bookings", "upstreams": ["http://127.0.0.1:8081"] },
                { "name": "reserve", "prefix": "/api/v1/bookings/reserve", "methods": ["post"], "upstreams": ["http://127.0.0.1:8081"],
                  "queue_pass": { "event_from": "body:event_id" } },
                { "name": "join", "prefix": "/api/v1/queue/*/join", "methods": ["POST"], "local": true },
                { "name": "status", "prefix": "/api/v1/queue/*/status", "methods": ["GET"], "local": true }
              ]
            }
            """)
        let table = try RouteTable.load(path: path)
        #expect(table.route(method: "POST", path: "/api/v1/bookings/reserve")?.name == "reserve")
        #expect(table.route(method: "GET", path: "/api/v1/bookings/reserve")?.name == "bookings", "another method falls through to the wider route")
        #expect(table.route(method: "POST", path: "/api/v1/bookings/b-1/cancel")?.name == "bookings", "cancel needs no pass")
        #expect(table.route(method: "POST", path: "/api/v1/queue/concert-1/join")?.name == "join")
        #expect(table.route(method: "POST", path: "/api/v1/queue/concert-1/join/more")?.name == "join", "a pattern is a prefix")
        #expect(table.route(method: "POST", path: "/api/v1/queue//join") == nil, "a wildcard takes one non-empty segment")
        #expect(table.route(method: "POST", path: "/api/v1/queue/concert-1/joined") == nil, "segments match whole")
        #expect(table.route(method: "HEAD", path: "/api/v1/queue/concert-1/status")?.name == "status", "a GET route takes HEAD")
        #expect(table.route(method: "DELETE", path: "/api/v1/queue/concert-1/status") == nil)
    }

    @Test(arguments: [
        #"{"routes": [{"name": "a", "prefix": "/a", "methods": [], "upstreams": ["http://x"]}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "methods": ["GE T"], "upstreams": ["http://x"]}]}"#,
        #"{"routes": [{"name": "a", "prefix": "no-slash", "upstreams": ["http://x"]}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "upstreams": []}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["ftp://x"]}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"]}, {"name": "a", "prefix": "/b", "upstreams": ["http://x"]}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"], "rate_limits": [{"name": "r", "key": "moon", "limit": 1, "period_s": 1}]}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"], "rate_limits": [{"name": "r", "key": "ip", "limit": 0, "period_s": 1}]}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"], "rate_limits": [{"name": "r", "key": "ip", "limit": 10, "period_s": 1, "lease": 11}]}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"], "rate_limits": [{"name": "r", "key": "ip", "limit": 10, "period_s": 1, "lease": 0}]}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"], "rate_limits": [{"name": "r", "key": "ip", "limit": 10, "period_s": 1, "scope": "instance", "lease": 2}]}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"], "rate_limits": [{"name": "r", "key": "ip", "limit": 2000000, "period_s": 1}]}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"], "queue_pass": {"event_from": "path:x"}}]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"], "queue_pass": {"event_from": "cookie:event"}}]}"#,
        #"{"routes": [], "trusted_proxies": ["not-a-block"]}"#,
        #"{"routes": [{"name": "a", "prefix": "/a"}]}"#,
        "not json",
    ])
    func refused(json: String) throws {
        let path = try Self.write(json)
        #expect(throws: GatewayConfigurationError.self) { try RouteTable.load(path: path) }
    }

    @Test("a field a route table does not have is refused by its path, so a misspelt policy is not left out", arguments: [
        (#"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"], "rate_limit": [{"name": "r", "key": "ip", "limit": 1, "period_s": 1}]}]}"#, "routes.0.rate_limit"),
        (#"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"], "rate_limits": [{"name": "r", "key": "ip", "limit": 1, "period": 1}]}]}"#, "routes.0.rate_limits.0.period"),
        (#"{"routes": [{"name": "a", "prefix": "/a", "upstreams": ["http://x"], "queue_pass": {"event_from": "path:3", "single": true}}]}"#, "routes.0.queue_pass.single"),
        (#"{"routes": [], "trusted_proxy": ["10.0.0.0/8"]}"#, "trusted_proxy"),
    ])
    func unknownField(json: String, field: String) throws {
        let path = try Self.write(json)
        let error = #expect(throws: GatewayConfigurationError.self) { try RouteTable.load(path: path) }
        #expect(error.map { "\($0)" }?.contains("`\(field)` is not a field of a route table") == true, "\(String(describing: error))")
    }

    @Test("a prefix no normal request path could match is refused", arguments: ["/a//b", "/a/./b", "/a/../b", "/%61pi", "/a#b", "/a?b"])
    func prefixNotNormal(prefix: String) throws {
        let path = try Self.write(#"{"routes": [{"name": "a", "prefix": "\#(prefix)", "upstreams": ["http://x"]}]}"#)
        let error = #expect(throws: GatewayConfigurationError.self) { try RouteTable.load(path: path) }
        #expect(error.map { "\($0)" }?.contains("normal form") == true, "\(String(describing: error))")
        let normal = try Self.write(#"{"routes": [{"name": "a", "prefix": "/a/*/b%2Fc/", "upstreams": ["http://x"]}]}"#)
        #expect(try RouteTable.load(path: normal).routes.count == 1, "wildcards, encoded slashes and a trailing slash are normal")
    }

    @Test("CIDR blocks match the addresses inside them only")
    func addressBlocks() throws {
        let v4 = try #require(AddressBlock("10.1.0.0/16"))
        #expect(v4.contains(AddressBlock.bytes(of: "10.1.200.3")!))
        #expect(!v4.contains(AddressBlock.bytes(of: "10.2.0.1")!))
        let v6 = try #require(AddressBlock("fd00::/8"))
        #expect(v6.contains(AddressBlock.bytes(of: "fd12::1")!))
        #expect(!v6.contains(AddressBlock.bytes(of: "10.1.0.1")!))
        #expect(AddressBlock("10.0.0.0/33") == nil)
    }
}
