import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@Suite("Customer flow and operator console pages, traffic window")
struct WebConsoleTests {
    @Test("pages and assets come from the binary with their content types, CSP, ETags and 304s")
    func pagesAndAssets() async throws {
        try await GatewayFixture.with { fixture in
            try await fixture.application.test(.router) { client in
                let root = try await client.execute(uri: "/", method: .get)
                #expect(root.status == .found)
                #expect(root.headers[.location] == "/shop/")
                for (path, marker) in [("/shop/", "id=\"event-list\""), ("/shop/demo", "id=\"pay-form\""), ("/admin/", "id=\"room-template\"")] {
                    let page = try await client.execute(uri: path, method: .get)
                    #expect(page.status == .ok, "\(path)")
                    #expect(page.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                    #expect(page.headers[.contentSecurityPolicy]?.contains("unsafe-inline") == false)
                    #expect(String(buffer: page.body).contains(marker), "\(path)")
                }
                let script = try await client.execute(uri: "/assets/shop.js", method: .get)
                #expect(script.status == .ok)
                #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
                #expect(script.headers[.xContentTypeOptions] == "nosniff")
                let etag = try #require(script.headers[.eTag])
                let again = try await client.execute(uri: "/assets/shop.js", method: .get, headers: [.ifNoneMatch: etag])
                #expect(again.status == .notModified)
                #expect(again.body.readableBytes == 0)
                let style = try await client.execute(uri: "/assets/style.css", method: .get)
                #expect(style.headers[.contentType] == "text/css; charset=utf-8")

                for path in ["/assets/missing.js", "/assets/shop.html", "/assets/..%2FPackage.swift"] {
                    let missing = try await client.execute(uri: path, method: .get)
                    #expect(missing.status == .notFound, "\(path)")
                    #expect(missing.headers[.contentType] == "application/problem+json")
                }
            }
        }
    }

    @Test("the traffic endpoint counts responses by class and needs admin credentials")
    func trafficEndpoint() async throws {
        try await GatewayFixture.with { fixture in
            try await fixture.application.test(.router) { client in
                let anonymous = try await client.execute(uri: "/admin/v1/traffic", method: .get)
                #expect(anonymous.status == .unauthorized)
                _ = try await client.execute(uri: "/health", method: .get)
                _ = try await client.execute(uri: "/no/such/route", method: .get)
                _ = try await client.execute(uri: "/no/such/route", method: .get)
                try await Task.sleep(for: .milliseconds(1_100))
                let traffic = try await client.execute(uri: "/admin/v1/traffic", method: .get, headers: AdminAndPageTests.admin)
                #expect(traffic.status == .ok)
                #expect(traffic.json["window_seconds"] as? Int == 60)
                #expect(traffic.json["total"] as? Int == 3, "admin requests are not counted")
                #expect(traffic.json["client_errors"] as? Int == 2)
                #expect(traffic.json["server_errors"] as? Int == 0)
                #expect((traffic.json["per_second"] as? [Any])?.count == 60)
            }
        }
    }

    @Test("the window sorts statuses into classes and forgets seconds older than a minute")
    func window() {
        let clock = Mutex<Int64>(1_000)
        let window = TrafficWindow(now: { clock.withLock { $0 } })
        for status: HTTPResponse.Status in [.ok, .created, .notFound, .tooManyRequests, .badGateway, .serviceUnavailable] {
            window.record(status)
        }
        clock.withLock { $0 = 1_001 }
        var summary = window.summary()
        #expect(summary.total == 6)
        #expect(summary.clientErrors == 2)
        #expect(summary.rateLimited == 1)
        #expect(summary.serverErrors == 2)
        #expect(summary.perSecond.last?.second == 1_000)
        #expect(summary.perSecond.count == TrafficWindow.seconds)

        window.record(.ok)
        clock.withLock { $0 = 1_061 }
        summary = window.summary()
        #expect(summary.total == 1, "second 1000 has left the window, 1001 is still in it")
        clock.withLock { $0 = 1_061 + 60 }
        window.record(.internalServerError)
        #expect(window.summary().total == 0, "the current second is not reported until it is over")
        clock.withLock { $0 += 1 }
        #expect(window.summary().serverErrors == 1)
    }
}
