import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import ServiceTestSupport
import Testing

@testable import Gateway

@Suite("/health answered by the edge")
struct EdgeHealthTests {
    @Test("only GET /health (any query) is the edge's; other paths and methods go on")
    func matching() {
        let health = EdgeHealth()
        #expect(health.answer(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/health")) != nil)
        #expect(health.answer(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/health?probe=lb")) != nil)
        for (method, uri) in [(HTTPMethod.POST, "/health"), (.HEAD, "/health"), (.GET, "/healthz"), (.GET, "/health/x"), (.GET, "/ready")] {
            #expect(health.answer(HTTPRequestHead(version: .http1_1, method: method, uri: uri)) == nil, "\(method) \(uri)")
        }
    }

    @Test("the edge's answer is the router's: status, body and content type; counted in the traffic window")
    func sameAsRouter() async throws {
        try await GatewayFixture.with { fixture in
            let fromRouter = try await fixture.application.test(.router) { client in
                try await client.execute(uri: "/health", method: .get)
            }
            try await fixture.application.test(.live) { client in
                let fromEdge = try await client.execute(uri: "/health", method: .get, headers: [.xRequestID: "lb-probe-1"])
                #expect(fromEdge.status == fromRouter.status)
                #expect(fromEdge.status == .ok)
                let fromRouterBody = try JSONDecoder().decode(HealthBody.self, from: Data(buffer: fromRouter.body))
                #expect(fromEdge.headers[.contentType] == fromRouter.headers[.contentType])
                #expect(fromEdge.headers[.xRequestID] == "lb-probe-1")
                #expect(fromEdge.headers[.date] != nil)
                let report = try JSONDecoder().decode(HealthBody.self, from: Data(buffer: fromEdge.body))
                #expect(report == fromRouterBody, "the same JSON (the router's key order varies)")
                #expect(report.status == "ok" && report.checks.isEmpty)

                for _ in 0..<3 { _ = try await client.execute(uri: "/health", method: .get) }
                try await Task.sleep(for: .milliseconds(1_100))
                let counted = fixture.components.traffic.report(instance: "test").routes.first { $0.route == EdgeHealth.routeName }
                #expect(counted?.total == 5, "the router's answer and the edge's four")
            }
        }
    }

    @Test("HEAD on the gateway's own GET routes answers as GET would, without a body; the connection serves what follows")
    func headOnOwnRoutes() async throws {
        try await GatewayFixture.with { fixture in
            try await fixture.application.test(.live) { client in
                let port = try #require(client.port)
                let requests = ["HEAD /health", "HEAD /.well-known/jwks.json", "HEAD /no/such/route", "GET /health"]
                    .map { "\($0) HTTP/1.1\r\nHost: gateway\r\n\r\n" }.joined()
                let text = try await RawConnection.exchange(port: port, requests, limit: .seconds(10)) { received, _ in
                    received.components(separatedBy: "HTTP/1.1 ").count == 5 && received.hasSuffix("}")
                }
                let answers = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { answer in
                    let parts = answer.components(separatedBy: "\r\n\r\n")
                    return (head: parts[0].lowercased(), body: parts.dropFirst().joined(separator: "\r\n\r\n"))
                }
                try #require(answers.count == 4, "\(text)")
                #expect(answers[0].head.hasPrefix("200 ok") && answers[0].body.isEmpty, "\(answers[0])")
                #expect(answers[1].head.hasPrefix("200 ok") && answers[1].body.isEmpty, "\(answers[1])")
                #expect(answers[1].head.contains("content-type: application/json"), "\(answers[1].head)")
                #expect(answers[2].head.hasPrefix("404 not found") && answers[2].body.isEmpty, "\(answers[2])")
                #expect(answers[2].head.contains("content-type: application/problem+json"), "\(answers[2].head)")
                #expect(answers[3].head.hasPrefix("200 ok") && answers[3].body.hasPrefix("{"), "\(answers[3])")
                #expect(answers[0].head.contains("content-length: \(answers[3].body.utf8.count)\r\n"), "HEAD's length is GET's: \(answers[0].head)")
            }
        }
    }

    private struct HealthBody: Decodable, Equatable {
        var status: String
        var checks: [String: String]
    }
}
