import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Queue
import Testing

@Suite("Admin rooms: PATCH, PUT defaults and body problems that name the field")
struct AdminRoomPatchTests {
    static let admin = AdminAndPageTests.admin

    @Test("concurrent PATCHes of different fields all stay; a PATCH racing a DELETE does not bring the room back")
    func concurrentPatches() async throws {
        try await GatewayFixture.with(.init(mode: .queue, releaseRate: 7, maxActive: 40, passTTL: 120, idleTimeout: 30)) { fixture in
            let event = fixture.event
            let room = fixture.room
            for round in 1...20 {
                async let rate: Void = room.patch(event: event, RoomConfigurationPatch(releaseRate: Double(100 + round)))
                async let active: Void = room.patch(event: event, RoomConfigurationPatch(maxActive: 1_000 + round))
                async let ttl: Void = room.patch(event: event, RoomConfigurationPatch(passTTL: 300 + round))
                async let mode: Void = room.setMode(event: event, round % 2 == 0 ? .paused : .queue)
                _ = try await (rate, active, ttl, mode)
                let stored = try await room.describe(event: event).configuration
                #expect(stored.releaseRate == Double(100 + round), "round \(round): \(stored)")
                #expect(stored.maxActive == 1_000 + round, "round \(round): \(stored)")
                #expect(stored.passTTL == 300 + round, "round \(round): \(stored)")
                #expect(stored.mode == (round % 2 == 0 ? .paused : .queue), "round \(round): \(stored)")
                #expect(stored.idleTimeout == 30)
            }
            try await room.delete(event: event)
            await #expect(throws: QueueError.roomNotFound(event: event)) { try await room.patch(event: event, RoomConfigurationPatch(releaseRate: 1)) }
            await #expect(throws: QueueError.roomNotFound(event: event)) { try await room.setMode(event: event, .open) }
            #expect(try await room.redis.send("EXISTS", QueueKeys(event: event, in: room.redis.keySpace).room).int == 0, "no partial room hash left behind")
        }
    }

    @Test("PATCH changes only the fields sent; PUT replaces, with defaults for fields left out")
    func patchAndPut() async throws {
        try await GatewayFixture.with(.init(mode: .queue, releaseRate: 7, maxActive: 40, passTTL: 120, idleTimeout: 30, targetURL: "/shop")) { fixture in
            try await fixture.application.test(.router) { client in
                let uri = "/admin/v1/rooms/\(fixture.event)"
                let patched = try await client.execute(uri: uri, method: .patch, headers: Self.admin, body: ByteBuffer(string: #"{"release_rate":55}"#))
                #expect(patched.status == .ok)
                let stored = try await fixture.room.describe(event: fixture.event).configuration
                #expect(stored == RoomConfiguration(mode: .queue, releaseRate: 55, maxActive: 40, passTTL: 120, idleTimeout: 30, targetURL: "/shop"))
                let shown = (patched.json["room"] as? [String: Any])?["configuration"] as? [String: Any]
                #expect(shown?["release_rate"] as? Double == 55)
                #expect(shown?["max_active"] as? Int == 40)

                let refused = try await client.execute(uri: uri, method: .patch, headers: Self.admin, body: ByteBuffer(string: #"{"pass_ttl":1}"#))
                #expect(refused.status == .unprocessableContent)
                #expect(refused.problem?.type == "https://booking-rush.dev/problems/invalid-room-configuration")
                #expect(refused.problem?.detail?.contains("pass_ttl") == true)
                #expect(try await fixture.room.describe(event: fixture.event).configuration.passTTL == 120, "a refused patch changes nothing")
                for body in [#"{"opens_at":-5}"#, #"{"proof_of_work":-1}"#] {
                    let negative = try await client.execute(uri: uri, method: .patch, headers: Self.admin, body: ByteBuffer(string: body))
                    #expect(negative.status == .unprocessableContent, "\(body) is refused as a PUT would refuse it, not taken as a clear")
                }
                for target in ["//evil.example/shop", #"/\evil.example"#, "/shop\r\nSet-Cookie: a=b", "/shop now", "/caf\u{e9}", "ftp://x/y"] {
                    let body = try JSONSerialization.data(withJSONObject: ["target_url": target])
                    let refusedTarget = try await client.execute(uri: uri, method: .patch, headers: Self.admin, body: ByteBuffer(bytes: body))
                    #expect(refusedTarget.status == .unprocessableContent && refusedTarget.problem?.field == "target_url", "\(target.debugDescription)")
                }
                #expect(try await fixture.room.describe(event: fixture.event).configuration.targetURL == "/shop", "no refused target was kept")
                for target in ["/shop?x=%2F%2Fy", "https://tickets.example/shop#seats"] {
                    let body = try JSONSerialization.data(withJSONObject: ["target_url": target])
                    #expect(try await client.execute(uri: uri, method: .patch, headers: Self.admin, body: ByteBuffer(bytes: body)).status == .ok, "\(target)")
                }

                let missing = try await client.execute(uri: "/admin/v1/rooms/\(fixture.event)-absent", method: .patch, headers: Self.admin, body: ByteBuffer(string: "{}"))
                #expect(missing.status == .notFound)

                let put = try await client.execute(uri: uri, method: .put, headers: Self.admin, body: ByteBuffer(string: #"{"mode":"paused"}"#))
                #expect(put.status == .ok)
                #expect(try await fixture.room.describe(event: fixture.event).configuration == RoomConfiguration(mode: .paused))
            }
        }
    }

    @Test("malformed admin bodies, and fields the API does not take, get invalid-body problems naming the field", arguments: [
        ("PUT", #"{"release_rate":"fast"}"#, "release_rate"),
        ("PUT", #"{"mode":"sideways"}"#, "mode"),
        ("PATCH", #"{"target_url":42}"#, "target_url"),
        ("PATCH", #"{"opens_at":true}"#, "opens_at"),
        ("PATCH", #"{"release_rate":"#, ""),
        ("PUT", #"[1,2]"#, ""),
        ("PATCH", #"{"relase_rate":50}"#, "relase_rate"),
        ("PUT", #"{"mode":"queue","releaseRate":50}"#, "releaseRate"),
        ("PATCH", #"{"adaptive":{"min_rate":1,"max_rate":5,"p99_target_ms":100,"p99":1}}"#, "adaptive.p99"),
    ])
    func malformedBodies(method: String, body: String, field: String) async throws {
        try await GatewayFixture.with { fixture in
            try await fixture.application.test(.router) { client in
                let before = try await fixture.room.describe(event: fixture.event).configuration
                let response = try await client.execute(
                    uri: "/admin/v1/rooms/\(fixture.event)", method: HTTPRequest.Method(method)!, headers: Self.admin, body: ByteBuffer(string: body)
                )
                #expect(response.status == .badRequest)
                let problem = try #require(response.problem, "problem+json for \(body)")
                #expect(problem.type == "https://booking-rush.dev/problems/invalid-body")
                #expect(problem.field == field)
                if !field.isEmpty { #expect(problem.detail?.contains("`\(field)`") == true) }
                #expect(problem.detail?.contains("``") == false, "the body as a whole is called the body: \(problem.detail ?? "")")
                #expect(try await fixture.room.describe(event: fixture.event).configuration == before)
            }
        }
    }
}
