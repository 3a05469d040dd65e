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

/// A room's adaptive release: its settings, the upstream's pooled health now, and the latest rate changes.
struct AdaptiveStatusBody: ResponseEncodable {
    var event: String
    var releaseRate: Double
    var adaptive: AdaptiveRelease?
    /// The routes whose health counts.
    var routes: [String]
    var health: UpstreamHealth
    var decisions: [AdaptiveDecision]

    enum CodingKeys: String, CodingKey {
        case event, releaseRate = "release_rate", adaptive, routes, health, decisions
    }
}

/// A room over the sale so far: a sample every interval (oldest first) and the adaptive
/// controller's rate changes (newest first), for the console's charts.
struct RoomHistoryBody: ResponseEncodable {
    var event: String
    var intervalSeconds: Int
    var samples: [RoomHistorySample]
    var decisions: [AdaptiveDecision]

    enum CodingKeys: String, CodingKey {
        case event, intervalSeconds = "interval_s", samples, decisions
    }
}

/// The key the gateway signs passes with now.
struct RotatedKeyBody: ResponseEncodable {
    var kid: String
}

/// `/admin/v1`: rooms (configuration replaced by `PUT` or changed field by field by `PATCH`, pause/resume/close, stats), the fleet's traffic, and
/// pass-key rotation.
struct AdminRoutes: Sendable {
    let room: WaitingRoom
    let snapshots: RoomSnapshots
    let keys: SigningKeyRing
    let adminToken: String
    let tokens: AccessTokens?
    let accounts: AccountRoutes?
    let traffic: FleetTraffic
    /// The route table in force: shown and reloaded, and its guarded routes are what adaptive
    /// release measures when a room names none.
    let routeTable: LiveRouteTable
    let fleetReloads: FleetRouteReloads
    let refusals: AdminRefusals

    func addRoutes(to router: Router<GatewayRequestContext>) {
        let admin = router.group("admin/v1").add(middleware: AdminAuthenticationMiddleware(
            token: adminToken, tokens: tokens, refusals: refusals, routeTable: routeTable
        ))
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
            let visitor = try context.parameters.requireDecoded("visitor")
            guard try await room.leave(event: event, visitor: visitor) else { throw QueueError.notInQueue }
            snapshots.departed(event: event, visitor: visitor)
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
        admin.get("rooms/:event/adaptive") { request, context in
            let event = try context.parameters.require("event")
            let limit = try request.integerQuery("limit", default: 20, in: 1...WaitingRoom.decisionsKept)
            let configuration = try await room.describe(event: event).configuration
            let routes = configuration.adaptive?.routes ?? routeTable.current.table.guardedRoutes
            let reports = (try? await traffic.reports()) ?? [traffic.window.report(instance: traffic.instance)]
            return AdaptiveStatusBody(
                event: event, releaseRate: configuration.releaseRate, adaptive: configuration.adaptive, routes: routes,
                health: AdaptiveReleaser.health(of: routes, in: reports, windowSeconds: traffic.window.recentSeconds),
                decisions: try await room.adaptiveDecisions(event: event, limit: limit)
            )
        }
        admin.get("rooms/:event/history") { request, context in
            let event = try context.parameters.require("event")
            let limit = try request.integerQuery("limit", default: WaitingRoom.historyKept, in: 1...WaitingRoom.historyKept)
            _ = try await room.describe(event: event)
            return RoomHistoryBody(
                event: event, intervalSeconds: WaitingRoom.historyInterval, samples: try await room.history(event: event, limit: limit),
                decisions: try await room.adaptiveDecisions(event: event, limit: WaitingRoom.decisionsKept)
            )
        }
        admin.get("traffic") { request, _ in
            // The fleet's view, or this instance's alone when asked for or when Redis cannot pool it.
            guard try request.choiceQuery("scope", default: "fleet", among: ["fleet", "instance"]) == "fleet" else {
                return traffic.window.summary(instance: traffic.instance)
            }
            do {
                return try await traffic.summary()
            } catch {
                return traffic.window.summary(instance: traffic.instance)
            }
        }
        admin.post("keys/rotate") { _, _ in
            RotatedKeyBody(kid: try await keys.rotate())
        }
        accounts?.addAdminRoutes(to: admin)
        addRouteTableRoutes(to: admin)
    }
}

extension RoomDescription: ResponseEncodable {}
