import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
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

    private struct HealthBody: Decodable, Equatable {
        var status: String
        var checks: [String: String]
    }
}
