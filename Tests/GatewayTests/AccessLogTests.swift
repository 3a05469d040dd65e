import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ServiceKit
import ServiceTestSupport
import Testing

@testable import Gateway

@Suite("The access log: one JSON line per answered request")
struct AccessLogTests {
    /// An access log that keeps what it writes, and its lines parsed.
    final class Captured: Sendable {
        private let written = CapturedLines()
        let made: AccessLog

        init() {
            let written = self.written
            made = AccessLog { bytes in written.append(bytes) }
        }

        var lines: [[String: Any]] {
            made.flush()
            return written.objects
        }
    }

    @Test("a line names the request without its query, escapes what JSON must, and drops lines while output is stuck")
    func lines() throws {
        _ = metricsBootstrapped
        let captured = Captured()
        captured.made.record(
            method: "GET", target: "/api/a\"b?token=secret", route: "r", status: 200, duration: .microseconds(1_234), client: "10.0.0.1",
            requestID: "id-1", user: "alice"
        )
        captured.made.record(method: "POST", target: "/x", route: "r2", status: 503, duration: .microseconds(7), client: "::1", requestID: "id-2")
        let lines = captured.lines
        #expect(lines.count == 2)
        let first = try #require(lines.first)
        #expect(first["path"] as? String == "/api/a\"b" && first["method"] as? String == "GET" && first["route"] as? String == "r")
        #expect(first["status"] as? Int == 200 && first["duration_ms"] as? Double == 1.234 && first["client"] as? String == "10.0.0.1")
        #expect(first["request_id"] as? String == "id-1" && first["user"] as? String == "alice" && first["type"] as? String == "access")
        #expect(!String(describing: lines).contains("secret"), "the query is never written")
        let stamp = try #require(first["ts"] as? String)
        let parsed = try #require(try? Date(stamp, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)))
        #expect(abs(parsed.timeIntervalSinceNow) < 5, "\(stamp)")
        #expect(lines[1]["duration_ms"] as? Double == 0.007 && lines[1]["user"] == nil)

        let droppedBefore = Self.droppedCount()
        let stuck = Captured()
        let long = "/" + String(repeating: "p", count: 3_000)
        for index in 0..<3_000 {
            stuck.made.record(method: "GET", target: long, route: "r", status: 200, duration: .zero, client: "c", requestID: "\(index)")
        }
        let kept = stuck.lines
        #expect((kept.first?["path"] as? String)?.count == AccessLog.maxPath, "long paths are cut")
        // A line is the cut path and about 100 bytes more: lines stop being kept once 4 MiB wait.
        #expect((AccessLog.maxPending / (AccessLog.maxPath + 200)...(AccessLog.maxPending / AccessLog.maxPath + 1)).contains(kept.count), "\(kept.count) lines kept")
        #expect(kept.last?["request_id"] as? String == "\(kept.count - 1)", "the first lines are kept, later ones dropped")
        #expect(Self.droppedCount() - droppedBefore == 3_000 - kept.count, "every line left out is counted")
    }

    /// `gateway_access_log_dropped_total` as `/metrics` shows it now.
    private static func droppedCount() -> Int {
        let text = String(decoding: ServiceMetrics.registry.emitToBuffer(), as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("gateway_access_log_dropped_total ") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
    }

    @Test("the live gateway logs proxied, edge and router answers, with the client, request id and user")
    func live() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: ReverseProxyTests.routes(upstream.url)) { fixture in
                let captured = Captured()
                var components = fixture.components
                components.accessLog = captured.made
                let application = Application(router: buildGatewayRouter(components), server: gatewayServer(components))
                let token = try await fixture.accessToken(user: "alice", roles: ["customer"])
                try await application.test(.live) { client in
                    let proxied = try await client.execute(uri: "/api/echo/one?token=secret", method: .get)
                    #expect(proxied.status == .ok)
                    #expect(try await client.execute(uri: "/api/echo/members/two", method: .get, headers: [.authorization: "Bearer \(token)"]).status == .ok)
                    #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
                    #expect(try await client.execute(uri: "/admin/v1/routes", method: .get).status == .unauthorized)
                    let lines = captured.lines
                    #expect(lines.map { $0["path"] as? String } == ["/api/echo/one", "/api/echo/members/two", "/health", "/admin/v1/routes"], "\(lines)")
                    #expect(lines.map { $0["route"] as? String } == ["echo", "members", "/health", "/admin/v1/routes"])
                    #expect(lines.map { $0["status"] as? Int } == [200, 200, 200, 401])
                    #expect(lines.allSatisfy { $0["client"] as? String == "127.0.0.1" }, "\(lines)")
                    #expect(lines[0]["request_id"] as? String == proxied.headers[HTTPField.Name("X-Request-Id")!])
                    #expect(lines[1]["user"] as? String == "alice" && lines[0]["user"] == nil)
                }
            }
        }
    }

    @Test("ACCESS_LOG and SECURE_COOKIES are on or off; any other value stops the start")
    func setting() throws {
        let read = { (environment: [String: String]) in try GatewayConfiguration.fromEnvironment(host: "127.0.0.1", port: 0, environment: environment) }
        #expect(try read(["ACCESS_LOG": "on"]).accessLog)
        #expect(try !read([:]).accessLog)
        #expect(throws: GatewayConfigurationError.self) { try read(["ACCESS_LOG": "loud"]) }
        #expect(try read(["SECURE_COOKIES": "1"]).secureCookies && read(["SECURE_COOKIES": "True"]).secureCookies)
        #expect(try !read([:]).secureCookies && !read(["SECURE_COOKIES": "off"]).secureCookies)
        #expect(throws: GatewayConfigurationError.self, "yes is not read as off: cookies would lose Secure") { try read(["SECURE_COOKIES": "yes"]) }
    }
}
