import Hummingbird
import ServiceKit
import Queue
import Tokens

/// A room as the admin API shows it.
struct AdminRoomBody: ResponseEncodable {
    var room: RoomDescription
    var stats: RoomStats?
}

/// Every room.
struct AdminRoomsBody: ResponseEncodable {
    var rooms: [RoomDescription]
}

/// The key the gateway signs passes with now.
struct RotatedKeyBody: ResponseEncodable {
    var kid: String
}

/// `/admin/v1`: rooms (configuration replaced by `PUT` or changed field by field by `PATCH`, pause/resume/close, stats), this instance's traffic, and
/// pass-key rotation.
struct AdminRoutes: Sendable {
    let room: WaitingRoom
    let keys: SigningKeyRing
    let adminToken: String
    let tokens: AccessTokens?
    let accounts: AccountRoutes?
    let traffic: TrafficWindow

    func addRoutes(to router: Router<GatewayRequestContext>) {
        let admin = router.group("admin/v1").add(middleware: AdminAuthenticationMiddleware(token: adminToken, tokens: tokens))
        admin.get("rooms") { _, _ in
            var rooms: [RoomDescription] = []
            for event in try await room.events() {
                if let description = try? await room.describe(event: event) { rooms.append(description) }
            }
            return AdminRoomsBody(rooms: rooms)
        }
        admin.get("rooms/:event") { _, context in
            AdminRoomBody(room: try await room.describe(event: try context.parameters.require("event")))
        }
        admin.put("rooms/:event") { request, context in
            let event = try context.parameters.require("event")
            let configuration = try await request.decodeBody(as: RoomConfiguration.self, context: context)
            try await room.configure(event: event, configuration)
            return AdminRoomBody(room: try await room.describe(event: event))
        }
        admin.patch("rooms/:event") { request, context in
            let event = try context.parameters.require("event")
            let patch = try await request.decodeBody(as: RoomConfigurationPatch.self, context: context)
            try await room.patch(event: event, patch)
            return AdminRoomBody(room: try await room.describe(event: event))
        }
        admin.delete("rooms/:event") { _, context in
            try await room.delete(event: try context.parameters.require("event"))
            return Response(status: .noContent)
        }
        admin.delete("rooms/:event/visitors/:visitor") { _, context in
            let event = try context.parameters.require("event")
            guard try await room.leave(event: event, visitor: try context.parameters.require("visitor")) else { throw QueueError.notInQueue }
            return Response(status: .noContent)
        }
        for (action, mode) in [("pause", RoomMode.paused), ("resume", .queue), ("close", .closed), ("open", .open)] {
            admin.post("rooms/:event/\(action)") { _, context in
                let event = try context.parameters.require("event")
                try await room.setMode(event: event, mode)
                return AdminRoomBody(room: try await room.describe(event: event))
            }
        }
        admin.get("rooms/:event/stats") { _, context in
            let event = try context.parameters.require("event")
            return AdminRoomBody(room: try await room.describe(event: event), stats: try await room.stats(event: event))
        }
        admin.get("traffic") { _, _ in traffic.summary() }
        admin.post("keys/rotate") { _, _ in
            RotatedKeyBody(kid: try await keys.rotate())
        }
        accounts?.addAdminRoutes(to: admin)
    }
}

extension RoomDescription: ResponseEncodable {}
