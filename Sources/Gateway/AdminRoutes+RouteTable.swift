import Foundation
import Hummingbird

/// The route table in force, as `GET /admin/v1/routes` and a reload show it.
struct RouteTableBody: ResponseEncodable {
    var instance: String
    var generation: Int
    var digest: String
    var loadedAt: String
    /// The file the table is read from; nil when the gateway started without one (it cannot be reloaded).
    var source: String?
    var table: RouteTable

    enum CodingKeys: String, CodingKey {
        case instance, generation, digest, loadedAt = "loaded_at", source, table
    }

    init(_ version: LiveRouteTable.Version, source: RouteTableSource?, instance: String) {
        self.instance = instance
        self.generation = version.generation
        self.digest = version.digest
        self.loadedAt = version.loadedAt.formatted(.iso8601)
        self.source = source?.path
        self.table = version.table
    }
}

extension AdminRoutes {
    /// `GET /admin/v1/routes` (the table in force on this instance) and `POST /admin/v1/routes/reload`
    /// (read the route file again: 200 with the new table, 422 `route-table-invalid` keeping the
    /// table in force, 409 `route-table-not-reloadable` when the gateway started without a file;
    /// `?scope=fleet` then has every other instance of the fleet reload its own file within a second).
    func addRouteTableRoutes(to admin: RouterGroup<GatewayRequestContext>) {
        admin.get("routes") { _, _ in
            RouteTableBody(routeTable.current, source: routeTable.source, instance: traffic.instance)
        }
        admin.post("routes/reload") { request, context in
            let fleet = try request.choiceQuery("scope", default: "instance", among: ["instance", "fleet"]) == "fleet"
            let version = fleet ? try await fleetReloads.reloadFleet() : try routeTable.reload()
            context.logger.notice("route table reloaded", metadata: [
                "generation": "\(version.generation)", "digest": "\(version.digest)", "scope": "\(fleet ? "fleet" : "instance")",
            ])
            return RouteTableBody(version, source: routeTable.source, instance: traffic.instance)
        }
    }
}
