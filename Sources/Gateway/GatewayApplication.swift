import AsyncHTTPClient
import Crypto
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Queue
import Redis
import ServiceKit
import ServiceLifecycle
import Tokens

/// What the gateway's routes share.
public struct GatewayComponents: Sendable {
    public let configuration: GatewayConfiguration
    public let redis: RedisClient
    public let room: WaitingRoom
    public let passKeys: SigningKeyRing
    public let accessTokens: AccessTokens
    public let httpClient: HTTPClient
    /// Built-in accounts, when the gateway has a database.
    public let accounts: AccountStore?
    /// This instance's traffic over the last minute, proxied and own routes alike.
    let traffic: TrafficWindow
    /// The traffic of every gateway of the fleet, pooled through Redis.
    let fleetTraffic: FleetTraffic
    /// The rate limiter shared by proxied routes and logins (one local deny cache).
    let limiter: RateLimiter
    /// This instance's room snapshots, which answer waiting visitors' polls.
    public let snapshots: RoomSnapshots
    /// The connections this gateway's edge serves without the router's handlers.
    let edgeConnections = EdgeConnections()
    /// The route table in force, reloadable from its file.
    public let routeTable: LiveRouteTable
    /// Reloads asked of the whole fleet.
    let fleetReloads: FleetRouteReloads
    /// Every answered request as a JSON line, when `ACCESS_LOG` is on (tests set one that keeps its lines).
    public internal(set) var accessLog: AccessLog?

    init(
        configuration: GatewayConfiguration, redis: RedisClient, room: WaitingRoom, passKeys: SigningKeyRing,
        accessTokens: AccessTokens, httpClient: HTTPClient, accounts: AccountStore?
    ) {
        self.configuration = configuration
        self.redis = redis
        self.room = room
        self.passKeys = passKeys
        self.accessTokens = accessTokens
        self.httpClient = httpClient
        self.accounts = accounts
        self.traffic = TrafficWindow(recentSeconds: configuration.adaptiveWindowSeconds)
        let routeTable = LiveRouteTable(configuration.routes, source: configuration.routesSource)
        self.routeTable = routeTable
        self.fleetTraffic = FleetTraffic(
            window: traffic, redis: redis, fleet: configuration.fleet, instance: configuration.instanceName, routeTable: routeTable,
            logger: Logger(label: "gateway.traffic")
        )
        self.accessLog = configuration.accessLog ? AccessLog() : nil
        self.fleetReloads = FleetRouteReloads(redis: redis, fleet: configuration.fleet, routeTable: routeTable, logger: Logger(label: "gateway.routes"))
        self.limiter = RateLimiter(
            redis: redis, timeout: .nanoseconds(Int64(configuration.rateLimitTimeout / .nanoseconds(1))),
            addresses: AddressSubject(ipv6PrefixLength: configuration.ipv6SubjectPrefix)
        )
        self.snapshots = RoomSnapshots(room: room, logger: Logger(label: "gateway.snapshots"))
    }

    /// Creates the components; key rings load from Redis (retried by the releaser if Redis is down).
    public static func make(
        configuration: GatewayConfiguration,
        redis: RedisClient,
        accounts: AccountStore? = nil,
        logger: Logger
    ) async -> GatewayComponents {
        let passKeys = SigningKeyRing(redis: redis, issuer: configuration.passIssuer, namespace: configuration.passKeyNamespace)
        let accessKeys = SigningKeyRing(redis: redis, issuer: configuration.passIssuer, namespace: configuration.accessKeyNamespace(in: redis.keySpace))
        for ring in [passKeys, accessKeys] {
            do {
                try await ring.bootstrap()
            } catch {
                logger.warning("signing keys not loaded yet; the refresher retries", metadata: ["ring": "\(ring.keysKey)", "error": "\(error)"])
            }
        }
        let httpClient = SlowPathClient.make()
        let external = configuration.externalProvider.map {
            ExternalTokenVerifier(provider: $0, client: httpClient)
        }
        return GatewayComponents(
            configuration: configuration, redis: redis, room: WaitingRoom(redis: redis), passKeys: passKeys,
            accessTokens: AccessTokens(ring: accessKeys, external: external), httpClient: httpClient, accounts: accounts
        )
    }
}

/// Builds the gateway's HTTP application, with the releaser and the upstream client's lifecycle
/// running beside the server. Every error leaves as `application/problem+json`.
public func buildGatewayApplication(
    configuration: GatewayConfiguration,
    redis: RedisClient,
    accounts: AccountStore? = nil,
    logger: Logger
) async throws -> some ApplicationProtocol {
    let components = await GatewayComponents.make(configuration: configuration, redis: redis, accounts: accounts, logger: logger)
    var services: [any Service] = [
        HTTPClientService(client: components.httpClient),
        SigningKeyRefresher(rings: [components.passKeys, components.accessTokens.ring], logger: logger),
        components.snapshots,
        components.fleetTraffic,
        EdgeConnectionsCloser(connections: components.edgeConnections),
    ]
    if configuration.releaseInterval > .zero {
        services.append(QueueReleaser(room: components.room, interval: configuration.releaseInterval, logger: logger))
        services.append(RoomHistoryRecorder(room: components.room, logger: logger))
        services.append(AdaptiveReleaser(
            room: components.room, traffic: components.fleetTraffic,
            routeTable: components.routeTable, logger: logger
        ))
    }
    if let log = components.accessLog {
        services.append(AccessLogWriter(log: log))
    }
    if components.routeTable.source != nil {
        services.append(RouteTableReloadSignals(routeTable: components.routeTable, logger: logger))
        services.append(components.fleetReloads)
    }
    return Application(
        router: buildGatewayRouter(components),
        server: gatewayServer(components),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "booking-rush-gateway", backlog: listenBacklog
        ),
        services: services,
        logger: logger
    )
}

/// The gateway's HTTP/1.1 server: proxied routes served by the edge on each connection's event
/// loop, everything else by the router of ``buildGatewayRouter(_:)``.
public func gatewayServer(_ components: GatewayComponents) -> HTTPServerBuilder {
    .edge(EdgeCore(components: components), idleTimeout: connectionIdleTimeout())
}

/// The gateway's own routes: health, the waiting room's API
/// and page, the customer flow and operator console pages, JWKS, and the admin API; every GET
/// route also answers HEAD, and a routed path asked with a method it has no route for is a 405.
public func buildGatewayRouter(_ components: GatewayComponents) -> Router<GatewayRequestContext> {
    let configuration = components.configuration
    let router = Router(context: GatewayRequestContext.self, options: .autoGenerateHeadEndpoints)
    let limiter = components.limiter
    let traffic = components.traffic
    router.add(middleware: RequestIDMiddleware())
    if let log = components.accessLog {
        router.add(middleware: AccessLogMiddleware(log: log, routeTable: components.routeTable))
    }
    router.addTracingIfInstalled()
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: TrafficMiddleware(window: traffic))
    router.add(middleware: ProblemMiddleware())
    router.addHealthRoutes { [ReadinessCheck(name: "redis") { try await components.redis.ping() }] + upstreamChecks(components) }
    router.addMetricsRoute()
    let queue = QueueHTTP(components: components)
    queue.addRoutes(to: router)
    queue.addPage(to: router)
    WebAssets().addRoutes(to: router)
    router.get(".well-known/jwks.json") { _, _ -> Response in
        var response = try Response.json(components.passKeys.jwks)
        response.headers[.cacheControl] = "public, max-age=60"
        return response
    }
    let accountRoutes = components.accounts.map {
        AccountRoutes(
            accounts: $0, tokens: components.accessTokens, limiter: limiter, routeTable: components.routeTable,
            loginLimits: configuration.loginLimits, registrations: RegistrationGate()
        )
    }
    accountRoutes?.addRoutes(to: router)
    AdminRoutes(
        room: components.room, snapshots: components.snapshots, keys: components.passKeys, adminToken: configuration.adminToken,
        tokens: components.accessTokens, accounts: accountRoutes, traffic: components.fleetTraffic,
        routeTable: components.routeTable, fleetReloads: components.fleetReloads, refusals: AdminRefusals()
    ).addRoutes(to: router)
    router.addMethodNotAllowedAnswers()
    return router
}

/// Shuts the upstream HTTP client down when the application stops.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}

/// One readiness check per distinct upstream of the table in force: any HTTP answer to
/// `GET /health` below 500 within a second.
func upstreamChecks(_ components: GatewayComponents) -> [ReadinessCheck] {
    var seen = Set<String>()
    var checks: [ReadinessCheck] = []
    for route in components.routeTable.current.table.routes {
        for upstream in route.upstreams where seen.insert(upstream).inserted {
            checks.append(ReadinessCheck(name: "upstream \(upstream)") {
                let request = HTTPClientRequest(url: SlowPathClient.trimmedBase(upstream) + "/health")
                let response = try await components.httpClient.execute(request, deadline: NIODeadline.now() + TimeAmount.seconds(1))
                guard response.status.code < 500 else { throw ProxyError.upstreamFailed(route: route.name) }
            })
        }
    }
    return checks
}
