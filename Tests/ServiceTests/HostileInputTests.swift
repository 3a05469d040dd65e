import Booking
import Crypto
import Database
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Payments
import PostgresNIO
import Redis
import ServiceKit
import ServiceTestSupport
import Testing

/// Property-style hostile input: every JSON field of every public write endpoint is replaced in
/// turn by each hostile value (wrong types, huge and negative numbers, unicode tricks, deep
/// nesting), plus malformed and oversized bodies and hostile path and query values. Whatever
/// comes in, the answer is below 500 and every error is `application/problem+json`; and each
/// field states what it takes (``FieldRule``): a value outside that must be refused with a 4xx
/// problem naming the field, a value inside may be accepted.
@Suite("Hostile input on every public endpoint")
struct HostileInputTests {
    static let logger = Logger(label: "hostile-input-tests")
    static let secret = Array("hostile-input-internal-secret-0123456789".utf8)
    static let adminToken = "hostile-input-admin-token-0123"

    /// JSON fragments that no well-behaved client sends where a field is expected.
    static let hostileValues: [String] = [
        "null", "true", "-1", "0", "1e309", "-1e309", "9223372036854775808", "-9223372036854775809", "1.5", "1e-400",
        #""""#, #""\u0000""#, #""\u202eadmin""#, #""🎟️🎟️🎟️""#, #""NaN""#, #""../../etc/passwd""#, #""<script>alert(1)</script>""#,
        "\"" + String(repeating: "x", count: 100_000) + "\"", "[]", "{}", #"{"$gt":""}"#,
        String(repeating: "[", count: 3_000) + String(repeating: "]", count: 3_000),
    ]

    /// Whole bodies that are not what any endpoint reads.
    static let hostileBodies: [ByteBuffer] = [
        ByteBuffer(), ByteBuffer(string: "{"), ByteBuffer(string: "null"), ByteBuffer(string: "[]"), ByteBuffer(string: "\"text\""),
        ByteBuffer(string: "{\"a\":"), ByteBuffer(bytes: [0xff, 0xfe, 0xfd, 0x00]), ByteBuffer(string: String(repeating: "[", count: 200_000)),
        ByteBuffer(repeating: 0x61, count: 3 << 20),
    ]

    /// Path segments and query values for ids.
    static let hostileSegments = [
        "%00", "%2e%2e%2f%2e%2e", String(repeating: "a", count: 5_000), "%F0%9F%8E%9F", "%ff%fe", "1e309", "-1", "'%20OR%201=1--",
    ]

    /// What a field takes; any other value must be refused naming the field.
    enum FieldRule {
        /// Any string.
        case text
        /// Whole numbers in the range.
        case integer(ClosedRange<Int>)
        /// Numbers in the range.
        case number(ClosedRange<Double>)
        /// One of these strings.
        case oneOf(Set<String>)
        /// An array.
        case list
        /// `null` (taken as "not given") or what the rule takes.
        indirect case optional(FieldRule)

        /// Whether `fragment` (one of ``hostileValues``) is a value the field may take.
        func admits(_ fragment: String) -> Bool {
            let string = fragment.hasPrefix("\"") ? String(fragment.dropFirst().dropLast()) : nil
            switch self {
            case .text: return string != nil
            // 1e-400 underflows to 0 in every JSON parser.
            case .integer(let range): return (fragment == "1e-400" ? 0 : Int(fragment)).map(range.contains) ?? false
            case .number(let range): return string == nil && Double(fragment).map { $0.isFinite && range.contains($0) } ?? false
            case .oneOf(let choices): return string.map(choices.contains) ?? false
            case .list: return fragment == "[]"
            case .optional(let rule): return fragment == "null" || rule.admits(fragment)
            }
        }
    }

    /// Values the JSON parser refuses before any field is read (too deep, a number beyond any
    /// float): refused as a whole body, so the problem cannot name a field.
    static func isUnreadable(_ fragment: String) -> Bool {
        fragment.hasPrefix("[[[") || fragment.hasSuffix("1e309")
    }

    /// A JSON body from `template` (field name, JSON fragment), with `field` replaced by `value`.
    static func body(_ template: [(String, String)], replacing field: String? = nil, with value: String? = nil) -> ByteBuffer {
        ByteBuffer(string: "{" + template.map { key, fragment in "\"\(key)\":\(key == field ? value! : fragment)" }.joined(separator: ",") + "}")
    }

    /// Template fields with what each takes.
    typealias Template = [(name: String, fragment: String, rule: FieldRule)]

    static func plain(_ template: Template) -> [(String, String)] { template.map { ($0.name, $0.fragment) } }

    static func identity(_ user: String, roles: [String]) -> HTTPFields {
        TestIdentity.fields(user, roles: roles)
    }

    /// Sends every hostile variant of one endpoint and checks each answer.
    static func attack(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, template: Template,
        headers: @autoclosure () -> HTTPFields, skipping: Set<String> = []
    ) async throws {
        for (index, body) in hostileBodies.enumerated() {
            let response = try await client.execute(uri: uri, method: method, headers: headers(), body: body)
            check(response, "\(method) \(uri.prefix(60)) body #\(index)", refusing: "")
        }
        for field in template {
            for value in hostileValues where !skipping.contains(value) {
                let response = try await client.execute(uri: uri, method: method, headers: headers(), body: body(plain(template), replacing: field.name, with: value))
                let refusing = field.rule.admits(value) ? nil : isUnreadable(value) ? "" : field.name
                check(response, "\(method) \(uri.prefix(60)) \(field.name)=\(value.prefix(40))", refusing: refusing)
            }
        }
    }

    /// Below 500, and a problem when refused. With `refusing`, the answer must be a 4xx problem
    /// naming that field (in `field`, or in its detail); "" asks only for a 4xx problem.
    static func check(_ response: TestResponse, _ label: String, refusing field: String? = nil) {
        let text = String(buffer: response.body)
        #expect(response.status.code < 500, "\(label) → \(response.status.code) \(text.prefix(200))")
        let problem = try? JSONDecoder().decode(ProblemDetails.self, from: Data(buffer: response.body))
        if response.status.code >= 400 {
            #expect(response.headers[.contentType] == "application/problem+json", "\(label) → \(response.status.code) without a problem")
            #expect(problem?.type.hasPrefix(ProblemDetails.typeBase) == true, "\(label) → \(response.status.code) not a project problem type: \(text.prefix(200))")
        }
        guard let field else { return }
        #expect((400..<500).contains(response.status.code), "\(label) must be refused, got \(response.status.code) \(text.prefix(200))")
        guard !field.isEmpty else { return }
        let named = problem?.field == field || (problem?.detail?.contains(field) ?? false)
        #expect(named, "\(label) → \(response.status.code) does not name `\(field)`: \(text.prefix(200))")
    }

    static func withStores(_ body: @Sendable (PostgresClient, RedisClient) async throws -> Void) async throws {
        let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] ?? "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush_test"
        try await withPostgresClient(configuration: try PostgresClient.Configuration(url: url), logger: logger) { postgres in
            try await MigrationRunner(migrations: try Migration.embedded(), logger: logger).run(on: postgres)
            try await TestRedis.withClient(commandTimeout: .seconds(10)) { redis in try await body(postgres, redis) }
        }
    }

    @Test("gateway: accounts, admin API and waiting room")
    func gateway() async throws {
        try await Self.withStores { postgres, redis in
            let configuration = GatewayConfiguration(
                port: 0, adminToken: Self.adminToken, releaseInterval: .zero,
                loginLimits: ProxyRoute(name: "hostile-login-\(UUID().uuidString.prefix(8))", prefix: "/", upstreams: [], rateLimits: [])
            )
            let components = await GatewayComponents.make(
                configuration: configuration, redis: redis, accounts: AccountStore(postgres: postgres, bcryptCost: 10, logger: Self.logger), logger: Self.logger
            )
            let event = "hostile-\(UUID().uuidString.prefix(8).lowercased())"
            let email = "\(event)@example.com"
            try await components.room.configure(event: event, .init(mode: .queue, releaseRate: 10))
            let json: HTTPFields = [.contentType: "application/json"]
            let admin: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(Self.adminToken)"]
            try await Application(router: buildGatewayRouter(components)).test(.router) { client in
                let credentials: Template = [("email", "\"\(email)\"", .text), ("password", #""long enough password""#, .text)]
                for path in ["/api/v1/auth/register", "/api/v1/auth/login"] {
                    try await Self.attack(client, .post, path, template: credentials, headers: json)
                }
                for path in ["/api/v1/auth/refresh", "/api/v1/auth/logout"] {
                    try await Self.attack(client, .post, path, template: [("refresh_token", #""rt_x""#, .text)], headers: json)
                }
                let room: Template = [
                    ("mode", #""queue""#, .optional(.oneOf(["queue", "open", "paused", "closed"]))), ("release_rate", "5", .optional(.number(0...100_000))),
                    ("max_active", "0", .optional(.integer(0...10_000_000))), ("pass_ttl", "300", .optional(.integer(10...86_400))),
                    ("idle_timeout", "60", .optional(.integer(5...86_400))), ("target_url", #""/shop""#, .optional(.text)),
                ]
                try await Self.attack(client, .put, "/admin/v1/rooms/\(event)", template: room, headers: admin)
                for segment in Self.hostileSegments {
                    for (method, path) in [(HTTPRequest.Method.post, "/api/v1/queue/\(segment)/join"), (.get, "/api/v1/queue/\(segment)/status"),
                                           (.get, "/waiting-room/\(segment)"), (.put, "/admin/v1/rooms/\(segment)"), (.get, "/shop/\(segment)")] {
                        let response = try await client.execute(uri: path, method: method, headers: admin, body: Self.body(Self.plain(room)))
                        Self.check(response, "\(method) \(path.prefix(60))")
                    }
                }
                for ticket in ["v1.x.y", "v1." + String(repeating: "A", count: 22) + ".sig", String(repeating: "v1.", count: 1_000), "\u{202e}"] {
                    let response = try await client.execute(
                        uri: "/api/v1/queue/\(event)/status", method: .get, headers: [HTTPField.Name("Visitor-Ticket")!: ticket, .cookie: "br_visitor=\(ticket)"]
                    )
                    Self.check(response, "status with ticket \(ticket.prefix(20))")
                }
            }
            try await components.room.delete(event: event)
            try await postgres.query("DELETE FROM gateway.accounts WHERE email = \(email)", logger: Self.logger)
            for ring in [components.passKeys, components.accessTokens.ring] { _ = try? await redis.send("DEL", ring.keysKey, ring.activeKey) }
            try await components.httpClient.shutdown()
        }
    }

    @Test("booking: catalog, reservations, listing and the payments webhook")
    func booking() async throws {
        try await Self.withStores { postgres, redis in
            let app = buildBookingApplication(address: .init(port: 0), redis: redis, postgres: postgres, configuration: .init(internalSecret: Self.secret), logger: Self.logger)
            let run = UUID().uuidString.prefix(8).lowercased()
            try await app.test(.router) { client in
                let client = GatewaySigningClient(client, secret: Self.secret, service: ServiceName.booking)
                let organizer = { Self.identity("hostile-org-\(run)", roles: ["organizer"]) }
                let zone = #"[{"id":"a","name":"A","price_minor":1000,"currency":"EUR","capacity":5}]"#
                let event: Template = [
                    ("id", "\"hostile-\(run)\"", .text), ("name", #""Hostile""#, .text), ("venue", #""Hall""#, .text),
                    ("starts_at", #""2031-01-01T20:00:00Z""#, .text), ("max_per_user", "4", .optional(.integer(1...100))), ("zones", zone, .list),
                ]
                try await Self.attack(client, .post, "/api/v1/events", template: event, headers: organizer())
                let zoneFields: Template = [
                    ("id", #""a""#, .text), ("name", #""A""#, .text), ("price_minor", "1000", .integer(0...Int.max)),
                    ("currency", #""EUR""#, .text), ("capacity", "5", .integer(0...1_000_000)),
                ]
                for field in zoneFields {
                    for value in Self.hostileValues {
                        var nested = Self.plain(event)
                        nested[5].1 = "[" + String(buffer: Self.body(Self.plain(zoneFields), replacing: field.name, with: value)) + "]"
                        nested[0].1 = "\"hostile-\(run)-zone\""
                        let response = try await client.execute(uri: "/api/v1/events", method: .post, headers: organizer(), body: Self.body(nested))
                        Self.check(response, "POST /api/v1/events zones[0].\(field.name)=\(value.prefix(40))", refusing: field.rule.admits(value) ? nil : Self.isUnreadable(value) ? "" : "zones.0.\(field.name)")
                    }
                }
                #expect(try await client.execute(uri: "/api/v1/events", method: .post, headers: organizer(), body: Self.body(Self.plain(event))).status.code < 500)
                try await Self.attack(
                    client, .patch, "/api/v1/events/hostile-\(run)", template: [("name", #""Renamed""#, .optional(.text)), ("max_per_user", "2", .optional(.integer(1...100)))], headers: organizer()
                )
                let customer = { Self.identity("hostile-customer-\(run)", roles: ["customer"]) }
                let reserve: Template = [("event_id", "\"hostile-\(run)\"", .text), ("zone_id", #""a""#, .text), ("quantity", "1", .integer(1...100))]
                try await Self.attack(client, .post, "/api/v1/bookings/reserve", template: reserve, headers: customer())
                for segment in Self.hostileSegments {
                    for (method, path) in [(HTTPRequest.Method.get, "/api/v1/events/\(segment)"), (.get, "/api/v1/bookings/\(segment)"),
                                           (.post, "/api/v1/bookings/\(segment)/cancel"), (.get, "/api/v1/bookings?page=\(segment)&per_page=\(segment)"),
                                           (.get, "/api/v1/events/\(segment)/inventory")] {
                        Self.check(try await client.execute(uri: path, method: method, headers: customer()), "\(method) \(path.prefix(60))")
                    }
                }
                for signature in ["", "t=1,v1=00", "t=\(Int(Date().timeIntervalSince1970)),v1=" + String(repeating: "f", count: 64), String(repeating: "t=1,", count: 5_000)] {
                    for body in Self.hostileBodies.prefix(7) {
                        let response = try await client.execute(
                            uri: "/webhooks/payments", method: .post, headers: [.contentType: "application/json", HTTPField.Name("Booking-Rush-Signature")!: signature], body: body
                        )
                        Self.check(response, "webhook with signature \(signature.prefix(20))")
                        #expect(response.status.code >= 400, "an unsigned webhook is never accepted")
                    }
                }
            }
        }
    }

    @Test("payments: intents, confirmation and lookups")
    func payments() async throws {
        try await Self.withStores { postgres, _ in
            let app = buildPaymentsApplication(address: .init(port: 0), postgres: postgres, configuration: .init(internalSecret: Self.secret), logger: Self.logger)
            try await app.test(.router) { client in
                let client = GatewaySigningClient(client, secret: Self.secret, service: ServiceName.payments)
                let customer = { Self.identity("hostile-payer", roles: ["customer"]) }
                // A well-formed booking id would make the service ask the booking service (not running here).
                let strings = Set(Self.hostileValues.filter { $0.hasPrefix("\"") && $0.count < 1_000 && $0 != #""""# })
                try await Self.attack(client, .post, "/api/v1/payments/intent", template: [("booking_id", #""""#, .text)], headers: customer(), skipping: strings)
                try await Self.attack(
                    client, .post, "/api/v1/payments/intent/confirm", template: [("payment_id", #""pi_x""#, .text), ("payment_method", #""pm_card_visa""#, .text)], headers: customer()
                )
                for segment in Self.hostileSegments {
                    Self.check(try await client.execute(uri: "/api/v1/payments/\(segment)", method: .get, headers: customer()), "GET payment \(segment.prefix(20))")
                    Self.check(try await client.execute(uri: "/internal/v1/payments/\(segment)/refund", method: .post, headers: customer()), "refund \(segment.prefix(20))")
                }
            }
        }
    }
}
