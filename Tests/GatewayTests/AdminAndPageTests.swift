import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Queue
import Testing

@Suite("Admin API and waiting-room page")
struct AdminAndPageTests {
    static let admin: HTTPFields = [.authorization: "Bearer \(GatewayFixture.adminToken)", .contentType: "application/json"]

    @Test("the admin API refuses missing, malformed and wrong credentials")
    func adminAuthentication() async throws {
        try await GatewayFixture.with { fixture in
            try await fixture.application.test(.router) { client in
                for headers: HTTPFields in [[:], [.authorization: "Basic YWRtaW46YWRtaW4="], [.authorization: "Bearer wrong-token"]] {
                    let response = try await client.execute(uri: "/admin/v1/rooms/\(fixture.event)", method: .get, headers: headers)
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    #expect(response.problem?.statusCode == 401)
                }
                let put = try await client.execute(uri: "/admin/v1/rooms/\(fixture.event)/pause", method: .post)
                #expect(put.status == .unauthorized)
                #expect(try await fixture.room.describe(event: fixture.event).configuration.mode == .queue, "nothing changed")
            }
        }
    }

    @Test("operators configure rooms, pause and resume them, read stats and rotate keys")
    func adminOperations() async throws {
        try await GatewayFixture.with { fixture in
            try await fixture.application.test(.router) { client in
                let body = #"{"mode":"queue","release_rate":25.5,"max_active":100,"pass_ttl":120,"idle_timeout":30,"target_url":"/shop"}"#
                let put = try await client.execute(uri: "/admin/v1/rooms/\(fixture.event)", method: .put, headers: Self.admin, body: ByteBuffer(string: body))
                #expect(put.status == .ok)
                let room = try #require(put.json["room"] as? [String: Any])
                let configuration = try #require(room["configuration"] as? [String: Any])
                #expect(configuration["release_rate"] as? Double == 25.5)
                #expect(configuration["target_url"] as? String == "/shop")

                let paused = try await client.execute(uri: "/admin/v1/rooms/\(fixture.event)/pause", method: .post, headers: Self.admin)
                #expect(((paused.json["room"] as? [String: Any])?["configuration"] as? [String: Any])?["mode"] as? String == "paused")
                #expect(try await fixture.room.describe(event: fixture.event).configuration.mode == .paused)
                _ = try await client.execute(uri: "/admin/v1/rooms/\(fixture.event)/resume", method: .post, headers: Self.admin)
                #expect(try await fixture.room.describe(event: fixture.event).configuration.mode == .queue)

                _ = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                let stats = try await client.execute(uri: "/admin/v1/rooms/\(fixture.event)/stats", method: .get, headers: Self.admin)
                let figures = try #require(stats.json["stats"] as? [String: Any])
                #expect(figures["waiting"] as? Int == 1)
                #expect(figures["configured_rate"] as? Double == 25.5)
                #expect(figures["active_passes"] as? Int == 0)

                let list = try await client.execute(uri: "/admin/v1/rooms", method: .get, headers: Self.admin)
                let rooms = try #require(list.json["rooms"] as? [[String: Any]])
                #expect(rooms.contains { $0["event"] as? String == fixture.event })

                let before = fixture.keys.activeKid
                let rotated = try await client.execute(uri: "/admin/v1/keys/rotate", method: .post, headers: Self.admin)
                let kid = try #require(rotated.json["kid"] as? String)
                #expect(kid != before)
                let jwks = try await client.execute(uri: "/.well-known/jwks.json", method: .get)
                #expect(Set((jwks.json["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String }) == Set([kid, before].compactMap { $0 }))
            }
        }
    }

    @Test("bad room settings are problems: 422 out of range, 400 malformed, 404 unknown room")
    func adminValidation() async throws {
        try await GatewayFixture.with { fixture in
            try await fixture.application.test(.router) { client in
                let negative = try await client.execute(
                    uri: "/admin/v1/rooms/\(fixture.event)", method: .put, headers: Self.admin,
                    body: ByteBuffer(string: #"{"mode":"queue","release_rate":-5,"max_active":0,"pass_ttl":300,"idle_timeout":60}"#)
                )
                #expect(negative.status == .unprocessableContent)
                #expect(negative.problem?.detail?.contains("release_rate") == true)
                let malformed = try await client.execute(uri: "/admin/v1/rooms/\(fixture.event)", method: .put, headers: Self.admin, body: ByteBuffer(string: "{not json"))
                #expect(malformed.status == .badRequest)
                #expect(malformed.problem != nil)
                let unknownMode = try await client.execute(
                    uri: "/admin/v1/rooms/\(fixture.event)", method: .put, headers: Self.admin,
                    body: ByteBuffer(string: #"{"mode":"turbo","release_rate":5,"max_active":0,"pass_ttl":300,"idle_timeout":60}"#)
                )
                #expect(unknownMode.status == .badRequest)
                let missing = try await client.execute(uri: "/admin/v1/rooms/nope-\(UUID().uuidString.prefix(6))/stats", method: .get, headers: Self.admin)
                #expect(missing.status == .notFound)
                #expect(try await fixture.room.describe(event: fixture.event).configuration.releaseRate == 100, "refused settings change nothing")
            }
        }
    }

    @Test(
        "the page joins, shows the position, refreshes without JavaScript, and redirects once admitted, the pass in a cookie only (from the router, and from the edge of a live gateway)",
        arguments: [false, true]
    )
    func page(live: Bool) async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 100, targetURL: "/shop/checkout")) { fixture in
            try await fixture.application.test(live ? .live : .router) { client in
                let first = try await client.execute(uri: "/waiting-room/\(fixture.event)", method: .get)
                #expect(first.status == .ok)
                #expect(first.headers[.contentType] == "text/html; charset=utf-8")
                #expect(first.headers[.cacheControl] == "no-store")
                #expect(first.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'self'") == true)
                #expect(first.cookie("br_place_\(fixture.event)") != nil, "the place token, for polls and the stream")
                let html = String(buffer: first.body)
                #expect(html.contains(#"<strong id="position">1</strong>"#))
                #expect(html.contains(#"<noscript><meta http-equiv="refresh""#))
                #expect(html.contains("EventSource"))
                let ticket = try #require(first.cookie("br_visitor"))

                let refreshed = try await client.execute(uri: "/waiting-room/\(fixture.event)", method: .get, headers: [.cookie: "br_visitor=\(ticket)"])
                #expect(String(buffer: refreshed.body).contains(#"<strong id="position">1</strong>"#), "a refresh keeps the place")

                try await fixture.release(atLeast: 1)
                let admitted = try await client.execute(uri: "/waiting-room/\(fixture.event)", method: .get, headers: [.cookie: "br_visitor=\(ticket)"])
                #expect(admitted.status == .seeOther)
                let location = try #require(admitted.headers[.location])
                #expect(location == "/shop/checkout", "the pass never travels in a URL")
                let pass = try #require(admitted.cookie("br_pass_\(fixture.event)"))
                #expect(try await fixture.keys.verify(pass, event: fixture.event).event == fixture.event)
                let cookie = try #require(admitted.headers[values: .setCookie].first { $0.hasPrefix("br_pass_") })
                #expect(cookie.contains("HttpOnly"))
            }
        }
    }

    @Test("page text is escaped")
    func escaping() {
        #expect(WaitingRoomHTML.escape(#"<script>"x"&'y'</script>"#) == "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;")
    }
}
