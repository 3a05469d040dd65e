import Hummingbird
import Logging

/// Where a service listens.
public struct ServiceAddress: Sendable, Hashable {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int) {
        self.host = host
        self.port = port
    }
}

/// A router with what every service has: metrics per route, problem+json errors,
/// `/health`, `/ready` (running `checks`) and `/metrics`.
public func makeServiceRouter(checks: [ReadinessCheck]) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.addHealthRoutes(checks)
    router.addMetricsRoute()
    return router
}

/// The application serving `router` at `address`.
public func makeServiceApplication(
    router: Router<BasicRequestContext>,
    address: ServiceAddress,
    serverName: String,
    logger: Logger
) -> some ApplicationProtocol {
    Application(
        router: router,
        configuration: .init(address: .hostname(address.host, port: address.port), serverName: serverName),
        logger: logger
    )
}
