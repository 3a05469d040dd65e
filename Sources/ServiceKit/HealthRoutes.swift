import Hummingbird

/// A dependency that `/ready` checks, such as Redis or Postgres.
public struct ReadinessCheck: Sendable {
    public let name: String
    /// An advisory check reports a failure as a warning without making the service unready.
    public let advisory: Bool
    public let check: @Sendable () async throws -> Void

    public init(name: String, advisory: Bool = false, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.advisory = advisory
        self.check = check
    }
}

/// The body of `/health` and `/ready`.
public struct HealthReport: ResponseCodable, Sendable {
    public var status: String
    public var checks: [String: String]
}

extension Router {
    /// Adds `GET /health` (the process answers) and `GET /ready` (every check passes; 503 otherwise).
    public func addHealthRoutes(_ checks: [ReadinessCheck]) {
        addHealthRoutes { checks }
    }

    /// Adds `GET /health` and `GET /ready`, with the checks `checks` gives at each `/ready`.
    public func addHealthRoutes(_ checks: @escaping @Sendable () -> [ReadinessCheck]) {
        get("/health") { _, _ in
            HealthReport(status: "ok", checks: [:])
        }
        get("/ready") { _, _ -> HealthReport in
            let results = await withTaskGroup(of: (String, String).self) { group in
                for check in checks() {
                    group.addTask {
                        do {
                            try await check.check()
                            return (check.name, "ok")
                        } catch {
                            return (check.name, (check.advisory ? "warning: " : "failing: ") + "\(error)")
                        }
                    }
                }
                var results: [String: String] = [:]
                for await (name, result) in group { results[name] = result }
                return results
            }
            let ready = results.values.allSatisfy { !$0.hasPrefix("failing: ") }
            guard ready else {
                throw ProblemDetails.project(
                    .serviceUnavailable, "not-ready", "Not ready",
                    detail: results.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
                )
            }
            return HealthReport(status: "ready", checks: results)
        }
    }
}
