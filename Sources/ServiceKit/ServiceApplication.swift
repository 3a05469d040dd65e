import Foundation
import Hummingbird
import Logging
import NIOCore

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
/// `/health`, `/ready` (running `checks`) and `/metrics`; every GET route also answers HEAD.
public func makeServiceRouter<Context: RequestContext>(
    context: Context.Type = BasicRequestContext.self,
    checks: [ReadinessCheck]
) -> Router<Context> {
    let router = Router(context: Context.self, options: .autoGenerateHeadEndpoints)
    router.addTracingIfInstalled()
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.addHealthRoutes(checks)
    router.addMetricsRoute()
    return router
}

/// The application serving `router` at `address`, with `fastRoutes` answered on the event loop
/// ahead of it (see ``FastRoute``); a connection without a request in progress for `idleTimeout`
/// is closed. Every service's connections are served the same way, fast routes or none:
/// `Expect: 100-continue` answered, a half-closed client still answered, graceful close.
/// `router` must hold all its routes: its paths are given their 405 and OPTIONS answers here
/// (``Router/addMethodNotAllowedAnswers()``).
public func makeServiceApplication<Context: RequestContext>(
    router: Router<Context>,
    fastRoutes: [FastRoute] = [],
    address: ServiceAddress,
    serverName: String,
    idleTimeout: TimeAmount = connectionIdleTimeout(),
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol where Context.Source == ApplicationRequestContextSource {
    router.addMethodNotAllowedAnswers()
    return Application(
        router: router,
        server: .http1(fastRoutes: fastRoutes, serverName: serverName, idleTimeout: idleTimeout),
        configuration: .init(address: .hostname(address.host, port: address.port), serverName: serverName, backlog: listenBacklog),
        onServerRunning: onServerRunning,
        logger: logger
    )
}

/// A request context whose JSON dates are ISO 8601 strings, both ways, and which carries the
/// identity the gateway vouched for (``GatewayIdentityMiddleware``).
public struct ISO8601RequestContext: IdentityRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: GatewayIdentity?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    public var requestDecoder: JSONDecoder { Self.decoder }

    public var responseEncoder: JSONEncoder { Self.encoder }

    /// One decoder and one encoder for every request: their options are set once, and both may
    /// be used from many threads at once.
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// How long a connection may sit without a request in progress (or with a request head that
/// stopped arriving) before the server closes it: `CONNECTION_IDLE_TIMEOUT_S`, 75 s by default (longer
/// than the 60 s that HTTP clients keep idle pooled connections, so a client never reuses one
/// the server is closing).
/// Keeps idle and slow-header clients from holding connections forever; a response being
/// written (a waiting-room event stream) is never cut.
/// A value that is not a whole number of seconds from 1 to 3600 ends the process with a message
/// (``environmentInteger(_:in:unit:environment:)``).
public func connectionIdleTimeout(environment: [String: String] = ProcessInfo.processInfo.environment) -> TimeAmount {
    .seconds(Int64(environmentInteger("CONNECTION_IDLE_TIMEOUT_S", in: 1...3_600, unit: "seconds", environment: environment) ?? 75))
}

/// The listen queue of every server: connections the kernel has accepted and the server has
/// not yet taken. A sale's opening brings thousands of connections in the same second; past
/// Hummingbird's default of 256 the kernel drops new connection requests, and each such client
/// waits for its SYN to be sent again (1 s, then 3 s). The kernel caps it at `net.core.somaxconn`
/// (4096 by default since Linux 5.4).
public let listenBacklog = 4096
