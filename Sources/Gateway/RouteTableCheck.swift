import Foundation

/// What `booking-rush check-routes` says of a route file: the table as a reload would load it
/// (overrides applied, checked whole), one line per route, and the digest the gateway would
/// show for it (`GET /admin/v1/routes`).
public enum RouteTableCheck {
    /// The report of the table at `path`; throws what a reload would refuse it for.
    public static func report(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let table = try RouteTable.load(path: path, environment: environment)
        var lines = ["route table \(path) is valid: \(table.routes.count) routes, digest \(LiveRouteTable.Version.digest(of: table))"]
        for route in RouteTable.inMatchingOrder(table.routes) {
            let methods = route.methods?.joined(separator: ",") ?? "*"
            let target = route.local ? "(answered by the gateway)" : route.upstreams.joined(separator: " ")
            lines.append("  \(route.name): \(methods) \(route.prefix) -> \(target)")
        }
        return lines.joined(separator: "\n")
    }
}
