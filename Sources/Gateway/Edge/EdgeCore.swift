import Crypto
import NIOCore
import NIOHTTP1
import Queue
import Redis
import ServiceKit
import Synchronization

/// What every edge connection shares: the proxied routes with their policy chains, the upstream
/// pools, and what requests are rewritten with. Built when the server starts; the routes are built
/// again whenever the route table is reloaded.
final class EdgeCore: Sendable {
    /// The route table in force, built: its routes (the most specific first) and who may set the
    /// client address. A request takes it once, as it starts; a reload puts a new one in its place.
    final class Table: Sendable {
        let routes: [EdgeRoute]
        let addresses: ClientAddressResolver

        init(routes: [EdgeRoute], addresses: ClientAddressResolver) {
            self.routes = routes
            self.addresses = addresses
        }
    }

    private let table: Mutex<Table>
    let signer: GatewaySigner
    /// The gateway's `Via` entry on forwarded requests, and the loop check it allows.
    let via: ProxyVia
    let traffic: TrafficWindow
    let pools: PerEventLoop<UpstreamPool>
    let tracing: EdgeTracing?
    /// Waiting visitors' status polls answered from the room snapshot.
    let statusPolls: EdgeStatusPolls
    /// Waiting visitors' live streams served on the event loop.
    let queueStreams: EdgeQueueStreams
    /// `GET /health`, answered without the router.
    let health = EdgeHealth()
    /// Where answered requests are logged, when the access log is on.
    let accessLog: AccessLog?
    /// Joins answered on the event loop.
    let queue: QueueHTTP
    /// The gateway's own routes the edge serves when the route table has no local route for
    /// them, without policies: joins, status polls the room snapshot cannot answer, and the
    /// waiting-room page.
    let ownRoutes: [EdgeRoute]
    /// Most client connections held at once.
    let connections: ConnectionLimit
    /// Connections the edge serves without the router's handlers, closed together if the server
    /// is cancelled.
    let unrouted: EdgeConnections

    init(components: GatewayComponents) {
        let configuration = components.configuration
        let live = components.routeTable
        let queue = QueueHTTP(components: components)
        let passes = PassEnforcer(room: components.room, keys: components.passKeys, tickets: queue.tickets)
        let build = { @Sendable (version: LiveRouteTable.Version) -> Table in
            let table = version.table
            let idempotency = IdempotencyStore(redis: components.redis, retention: .seconds(table.idempotencyRetention))
            let routes = RouteTable.inMatchingOrder(table.routes)
                .map { route in
                    EdgeRoute(route, policies: Self.policies(
                        for: route, tokens: components.accessTokens, limiter: components.limiter, passes: passes, idempotency: idempotency
                    ))
                }
            return Table(routes: routes, addresses: version.addresses)
        }
        self.table = Mutex(build(live.current))
        self.signer = GatewaySigner(key: SymmetricKey(data: configuration.internalSecret))
        self.via = ProxyVia(instanceName: configuration.instanceName)
        self.traffic = components.traffic
        self.tracing = EdgeTracing.ifInstalled()
        let statusPolls = EdgeStatusPolls(tickets: queue.tickets, snapshots: queue.snapshots)
        self.statusPolls = statusPolls
        self.queueStreams = EdgeQueueStreams(queue: queue, tokens: statusPolls.tokens)
        self.queue = queue
        let connections = configuration.maxConnections.map { ConnectionLimit(maximum: $0) } ?? .belowDescriptorLimit()
        self.connections = connections
        self.pools = PerEventLoop { UpstreamPool(eventLoop: $0, limit: connections) }
        self.unrouted = components.edgeConnections
        self.accessLog = components.accessLog
        self.ownRoutes = [
            ProxyRoute(name: "queue-join", prefix: "/api/v1/queue/*/join", methods: ["POST"], upstreams: [], authentication: .none, local: true),
            ProxyRoute(
                name: EdgeStatusPolls.routeName, prefix: "/api/v1/queue/*/status", methods: ["GET"], upstreams: [], authentication: .none, local: true
            ),
            ProxyRoute(name: "/waiting-room/{event}", prefix: "/waiting-room/*", methods: ["GET"], upstreams: [], authentication: .none, local: true),
        ].map { EdgeRoute($0, policies: []) }
        live.observe { [weak self] version in
            let built = build(version)
            self?.table.withLock { $0 = built }
        }
    }

    /// The route table in force.
    var currentTable: Table {
        table.withLock { $0 }
    }

    /// The proxied routes in force, the most specific first.
    var routes: [EdgeRoute] {
        currentTable.routes
    }

    /// The chain of one route, in the order the policies apply: access token and role (401/403),
    /// declared body size (413), rate limits (429), idempotency key, queue pass (403). The key
    /// comes before the pass so that a retry after a lost answer is replayed even when its pass
    /// has expired or was single-use; a fresh claim is given back if the pass then refuses.
    static func policies(
        for route: ProxyRoute, tokens: AccessTokens, limiter: RateLimiter, passes: PassEnforcer, idempotency: IdempotencyStore
    ) -> [any EdgePolicy] {
        var chain: [any EdgePolicy] = []
        if route.authentication != .none {
            chain.append(AccessTokenPolicy(tokens: tokens, authentication: route.authentication, roles: route.roles))
        }
        chain.append(BodyLimitPolicy(limit: route.maxBodyBytes))
        if !route.rateLimits.isEmpty {
            chain.append(RateLimitPolicy(limiter: limiter, route: route.name, rules: route.rateLimits))
        }
        if route.idempotency != .off {
            chain.append(IdempotencyPolicy(
                store: idempotency, route: route.name, required: route.idempotency == .required,
                lease: .milliseconds(route.timeoutMilliseconds) + .seconds(5)
            ))
        }
        if let policy = route.queuePass {
            chain.append(QueuePassCheck(enforcer: passes, policy: policy))
        }
        return chain
    }

    /// The route table's route of a request (the most specific pattern first), or nil.
    func route(for head: HTTPRequestHead) -> EdgeRoute? {
        let routes = self.routes
        return routes.isEmpty ? nil : Self.first(of: routes, matching: head)
    }

    /// The gateway's own route of a request the route table has no route for, or nil when only
    /// the router serves it.
    func ownRoute(for head: HTTPRequestHead) -> EdgeRoute? {
        Self.first(of: ownRoutes, matching: head)
    }

    private static func first(of routes: [EdgeRoute], matching head: HTTPRequestHead) -> EdgeRoute? {
        let path = head.uri.pathWithoutQuery
        let method = head.method.rawValue
        return routes.first { $0.pattern.matches(method: method, path: path) }
    }

    /// The edge's own answer to the request of a local `route` once its policies passed, or nil
    /// when the router serves it. The room snapshot is tried first, except for the gateway's own
    /// routes: the handler tried it before it began their exchange.
    func localAnswer(_ head: HTTPRequestHead, route: EdgeRoute, on eventLoop: any EventLoop) -> EventLoopFuture<EdgeResponse>? {
        if !ownRoutes.contains(where: { $0 === route }), let response = statusPolls.answer(head) {
            return eventLoop.makeSucceededFuture(response)
        }
        return queue.edgeJoin(head, on: eventLoop) ?? queue.edgeStatus(head, tickets: statusPolls.tokens, on: eventLoop)
            ?? queue.edgePage(head, on: eventLoop)
    }
}

extension String {
    /// A request target's path: everything before the first `?`.
    var pathWithoutQuery: Substring {
        utf8.firstIndex(of: UInt8(ascii: "?")).map { self[..<$0] } ?? self[...]
    }
}
