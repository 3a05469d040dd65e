import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceKit
import Synchronization
import Testing

@testable import Gateway

@Suite("Every change through the admin API is logged with who made it")
struct AdminAuditTests {
    @Test("changes by the admin token and by an admin user are logged with their status; reads are not")
    func changes() async throws {
        try await GatewayFixture.with { fixture in
            let lines = CapturedLines()
            let application = Self.application(fixture, logger: lines.logger("audit-test", level: .notice))
            let operatorToken = try await fixture.accessToken(user: "ops-1", roles: ["admin"])
            try await application.test(.router) { client in
                let room = "/admin/v1/rooms/\(fixture.event)"
                let json: HTTPFields = [.contentType: "application/json"]
                let put = try await client.execute(
                    uri: room, method: .put, headers: json + AdminAndPageTests.admin, body: ByteBuffer(string: #"{"release_rate": 7}"#)
                )
                #expect(put.status == .ok)
                #expect(try await client.execute(uri: room, method: .get, headers: AdminAndPageTests.admin).status == .ok)
                let refused = try await client.execute(
                    uri: room, method: .patch, headers: json + [.authorization: "Bearer \(operatorToken)"], body: ByteBuffer(string: #"{"release_rate": -1}"#)
                )
                #expect(refused.status == .unprocessableContent)
                #expect(try await client.execute(uri: room + "/pause", method: .post).status == .unauthorized)

                let changes = lines.objects.filter { $0["message"] as? String == "admin change" }
                #expect(changes.map { $0["actor"] as? String } == ["admin-token", "user:ops-1"], "\(changes)")
                #expect(changes.map { $0["method"] as? String } == ["PUT", "PATCH"] && changes.allSatisfy { $0["path"] as? String == room })
                #expect(changes.map { $0["status"] as? String } == ["200", "422"])
                #expect(changes.first?["request_id"] as? String == put.headers[HTTPField.Name("X-Request-Id")!])
            }
        }
    }
}

extension AdminAuditTests {
    @Test("refused requests are logged with their reason and client, and counted")
    func refusals() async throws {
        _ = metricsBootstrapped
        try await GatewayFixture.with { fixture in
            let lines = CapturedLines()
            let application = Self.application(fixture, logger: lines.logger("refusal-test", level: .notice))
            let customer = try await fixture.accessToken(user: "customer-1", roles: ["customer"])
            let before = Self.refusedCounts()
            try await application.test(.live) { client async throws in
                let rooms = "/admin/v1/rooms"
                let attempts: [(HTTPFields, HTTPResponse.Status)] = [
                    ([:], .unauthorized),
                    ([.authorization: "Basic YWRtaW46YWRtaW4="], .unauthorized),
                    ([.authorization: "Bearer guessed-admin-token"], .unauthorized),
                    ([.authorization: "Bearer \(customer)x"], .unauthorized),
                    ([.authorization: "Bearer \(customer)"], .forbidden),
                ]
                for (headers, status) in attempts {
                    #expect(try await client.execute(uri: rooms, method: .get, headers: headers).status == status)
                }
                #expect(try await client.execute(uri: rooms, method: .get, headers: AdminAndPageTests.admin).status == .ok)
            }
            let refused = lines.objects.filter { $0["message"] as? String == "admin access refused" }
            #expect(refused.map { $0["reason"] as? String } == ["missing", "malformed", "invalid_token", "invalid_access_token", "role_required"])
            #expect(refused.allSatisfy { $0["client"] as? String == "127.0.0.1" && $0["path"] as? String == "/admin/v1/rooms" && $0["method"] as? String == "GET" })
            #expect(refused.map { $0["user"] as? String } == [nil, nil, nil, nil, "customer-1"])
            #expect(!refused.contains { "\($0)".contains(customer) }, "no token is logged")
            let after = Self.refusedCounts()
            for reason in AdminRefusals.Reason.allCases {
                #expect(after[reason.rawValue, default: 0] - before[reason.rawValue, default: 0] == 1, "\(reason)")
            }
        }
    }

    @Test("a flood of refusals writes a few lines a second, the next one saying how many were left out")
    func refusalFlood() {
        let clock = Mutex(ContinuousClock.now)
        let refusals = AdminRefusals { clock.withLock { $0 } }
        let lines = CapturedLines()
        let logger = lines.logger("flood")
        for _ in 0..<100 { refusals.record(.invalidToken, method: "GET", path: "/admin/v1/rooms", client: "192.0.2.7", logger: logger) }
        #expect(lines.objects.count == AdminRefusals.linesPerSecond)
        #expect(lines.objects.allSatisfy { $0["suppressed"] == nil })
        clock.withLock { $0 = $0.advanced(by: .seconds(1)) }
        refusals.record(.invalidToken, method: "GET", path: "/admin/v1/rooms", client: "192.0.2.7", logger: logger)
        #expect(lines.objects.count == AdminRefusals.linesPerSecond + 1)
        #expect(lines.objects.last?["suppressed"] as? String == "\(100 - AdminRefusals.linesPerSecond)")
        refusals.record(.invalidToken, method: "GET", path: "/admin/v1/rooms", client: "192.0.2.7", logger: logger)
        #expect(lines.objects.last?["suppressed"] == nil, "counted once")
    }

    /// The fixture's gateway, logging through `logger`.
    static func application(_ fixture: GatewayFixture, logger: Logger) -> some ApplicationProtocol {
        Application(router: buildGatewayRouter(fixture.components), server: gatewayServer(fixture.components), logger: logger)
    }

    /// `gateway_admin_refused_total` by reason, as `/metrics` shows it now.
    private static func refusedCounts() -> [String: Int] {
        let text = String(decoding: ServiceMetrics.registry.emitToBuffer(), as: UTF8.self)
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("gateway_admin_refused_total{") {
            guard let reason = line.split(separator: "\"").dropFirst().first, let value = line.split(separator: " ").last.flatMap({ Int($0) }) else { continue }
            counts[String(reason)] = value
        }
        return counts
    }
}

private func + (lhs: HTTPFields, rhs: HTTPFields) -> HTTPFields {
    var fields = lhs
    fields.append(contentsOf: rhs)
    return fields
}
