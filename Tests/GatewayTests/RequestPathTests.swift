import Foundation
import Queue
import ServiceTestSupport
import Testing

@testable import Gateway

/// The edge routes and forwards one form of each path, so a route's policies cannot be stepped
/// around by spelling its path another way.
@Suite("Request paths in normal form: merged slashes, dot segments, unreserved escapes")
struct RequestPathTests {
    @Test("normal form of a target", arguments: [
        ("/api/v1/bookings/reserve", nil),
        ("/", nil),
        ("/a/", nil),
        ("/a/b?x=//y/../z", nil),
        ("*", nil),
        ("/a/%2F/b", nil),
        ("/a/b.json", nil),
        ("/a/..b/.c", nil),
        ("/api/v1/bookings//reserve", "/api/v1/bookings/reserve"),
        ("//a///b//", "/a/b/"),
        ("/a/./b", "/a/b"),
        ("/a/b/../c", "/a/c"),
        ("/a/b/..", "/a/"),
        ("/a/.", "/a/"),
        ("/a/b/./../../c?q=1", "/c?q=1"),
        ("/api/v1/bookings/%72eserve", "/api/v1/bookings/reserve"),
        ("/a/%2e%2E/b", "/b"),
        ("/a/%2f%41", "/a/%2FA"),
        ("/a/%zz/b", nil),
    ] as [(String, String?)])
    func normalForm(target: String, expected: String?) {
        let normalized = RequestPath.normalize(target)
        if let expected {
            #expect(normalized == .rewritten(expected))
        } else {
            #expect(normalized == .unchanged)
        }
    }

    @Test("`..` above the root is refused", arguments: ["/..", "/a/../..", "/a/%2E%2E/%2e%2e/b", "/../a?x"])
    func aboveRoot(target: String) {
        #expect(RequestPath.normalize(target) == .invalid)
    }

    @Test("a fragment is refused, in the path or the query, whatever else the target holds", arguments: ["/a#x", "/a/reserve#", "/a?q=1#x", "/a?#", "//a/../b#x", "/%61#"])
    func fragment(target: String) {
        #expect(RequestPath.normalize(target) == .fragment)
    }

    @Test("over a live connection: another spelling of a guarded path meets its route's policies; the upstream gets the normal form; above the root or a fragment is a 400")
    func live() async throws {
        try await UpstreamServer.with { upstream in
            let routes = RouteTable(routes: [
                ProxyRoute(name: "guarded", prefix: "/api/echo/guarded", upstreams: [upstream.url], authentication: .required),
                ProxyRoute(name: "open", prefix: "/api/echo", upstreams: [upstream.url]),
            ])
            try await GatewayFixture.with(routes: routes) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    for path in ["/api/echo//guarded/x", "/api/echo/./guarded/x", "/api/echo/other/../guarded/x", "/api/echo/%67uarded/x", "/api/echo/guarded//x"] {
                        let text = try await RawConnection.exchange(port: port, "GET \(path) HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n", limit: .seconds(5)) { _, _ in false }
                        #expect(text.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"), "\(path) meets the guarded route: \(text)")
                    }
                    #expect(upstream.callCount == 0, "no spelling got past the access-token policy")

                    let text = try await RawConnection.exchange(port: port, "GET /api/echo//a/./b/../c?q=/../x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n", limit: .seconds(5)) { _, _ in false }
                    let json = try #require(text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) })
                    let echo = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(text)")
                    #expect(echo["path"] as? String == "/api/echo/a/c?q=/../x", "the upstream reads the path the route was chosen by")

                    let above = try await RawConnection.exchange(port: port, "GET /api/../../etc/passwd HTTP/1.1\r\nHost: gw\r\n\r\n", limit: .seconds(5)) { _, _ in false }
                    #expect(above.hasPrefix("HTTP/1.1 400 Bad Request\r\n") && above.contains("malformed-request") && above.contains("above the root"), "\(above)")
                    let fragment = try await RawConnection.exchange(port: port, "GET /api/echo/guarded#x HTTP/1.1\r\nHost: gw\r\n\r\n", limit: .seconds(5)) { _, _ in false }
                    #expect(fragment.hasPrefix("HTTP/1.1 400 Bad Request\r\n") && fragment.contains("malformed-request") && fragment.contains("fragment"), "\(fragment)")
                    let admin = try await RawConnection.exchange(port: port, "GET /api/echo/../../admin/v1/rooms HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n", limit: .seconds(5)) { _, _ in false }
                    #expect(admin.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"), "the admin API's own check applies to /admin/v1/rooms however spelt: \(admin)")
                }
            }
        }
    }

    @Test("while a room queues, a reservation spelt another way needs the queue pass all the same")
    func queuePassSpellings() async throws {
        try await UpstreamServer.with { upstream in
            let routes = RouteTable(routes: [
                ProxyRoute(
                    name: "reserve", prefix: "/api/echo/reserve", methods: ["POST"], upstreams: [upstream.url],
                    queuePass: QueuePassPolicy(eventFrom: "body:event_id")
                ),
                ProxyRoute(name: "bookings", prefix: "/api/echo", upstreams: [upstream.url]),
            ])
            try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 0), routes: routes) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let body = #"{"event_id":"\#(fixture.event)"}"#
                    var statuses: [String] = []
                    for path in ["/api/echo/reserve", "/api/echo//reserve", "/api/echo/x/../reserve", "/api/echo/%72eserve"] {
                        let request = "POST \(path) HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                        let text = try await RawConnection.exchange(port: port, request, limit: .seconds(5)) { _, _ in false }
                        statuses.append(String(text.prefix(12)))
                    }
                    #expect(statuses.allSatisfy { $0 == "HTTP/1.1 403" }, "\(statuses)")
                    #expect(upstream.callCount == 0, "no reservation reached the service without a pass")
                }
            }
        }
    }
}
