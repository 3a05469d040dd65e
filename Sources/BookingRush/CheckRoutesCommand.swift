import ArgumentParser
import Foundation
import Gateway

/// `booking-rush check-routes`: reads a route table as a reload would and reports it, as
/// `nginx -t` does, so that a file is checked before a gateway is asked to reload it.
struct CheckRoutesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-routes",
        abstract: "Check a route table file as a reload would read it (ROUTE_<NAME>_UPSTREAMS overrides applied)."
    )

    @Option(help: "Route table (JSON) to check (default: $GATEWAY_ROUTES)") var routes: String?

    func run() throws {
        guard let path = routes ?? ProcessInfo.processInfo.environment["GATEWAY_ROUTES"], !path.isEmpty else {
            throw ValidationError("name the route table with --routes or GATEWAY_ROUTES")
        }
        let report: String
        do {
            report = try RouteTableCheck.report(path: path)
        } catch {
            FileHandle.standardError.write(Data("route table not valid: \(error)\n".utf8))
            throw ExitCode(65)
        }
        print(report)
    }
}
