import Foundation
import HTTPTypes
import ServiceKit

/// The proxied routes, read from a JSON file: path prefix → upstreams, with the policies each applies.
public struct RouteTable: Sendable, Codable, Hashable {
    public var routes: [ProxyRoute]
    /// Peers whose `X-Forwarded-For` is believed (CIDR blocks); anyone else's is ignored.
    public var trustedProxies: [String]
    /// How long completed idempotent responses are replayed, in seconds.
    public var idempotencyRetention: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case routes, trustedProxies = "trusted_proxies", idempotencyRetention = "idempotency_retention_s"
    }

    public init(routes: [ProxyRoute] = [], trustedProxies: [String] = [], idempotencyRetention: Int = 86_400) {
        self.routes = routes
        self.trustedProxies = trustedProxies
        self.idempotencyRetention = idempotencyRetention
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.routes = try container.decodeIfPresent([ProxyRoute].self, forKey: .routes) ?? []
        self.trustedProxies = try container.decodeIfPresent([String].self, forKey: .trustedProxies) ?? []
        self.idempotencyRetention = try container.decodeIfPresent(Int.self, forKey: .idempotencyRetention) ?? 86_400
    }

    /// Reads the table from `path`, then applies `ROUTE_<NAME>_UPSTREAMS=url,url` overrides.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RouteTable {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw GatewayConfigurationError("cannot read the route table \(path): \(error.localizedDescription)")
        }
        if let field = UnknownFields.first(in: data, known: knownFields) {
            throw GatewayConfigurationError("the route table \(path) is not valid: `\(field)` is not a field of a route table (a misspelt field would leave its policy out)")
        }
        var table: RouteTable
        do {
            table = try JSONDecoder().decode(RouteTable.self, from: data)
        } catch {
            throw GatewayConfigurationError("the route table \(path) is not valid: \(error)")
        }
        table.applyOverrides(environment)
        try table.validate()
        return table
    }

    mutating func applyOverrides(_ environment: [String: String]) {
        for index in routes.indices {
            let name = routes[index].name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
            if let upstreams = environment["ROUTE_\(String(name))_UPSTREAMS"] {
                routes[index].upstreams = upstreams.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            }
        }
    }

    /// Checks names, prefixes, upstream URLs and CIDR blocks.
    public func validate() throws {
        var names = Set<String>()
        for route in routes {
            guard names.insert(route.name).inserted else { throw GatewayConfigurationError("two routes are named '\(route.name)'") }
            try route.validate()
        }
        for block in trustedProxies where AddressBlock(block) == nil {
            throw GatewayConfigurationError("'\(block)' in trusted_proxies is not a CIDR block")
        }
    }

    /// The route that takes a request: the most specific pattern that matches it (see ``RoutePattern``).
    public func route(method: String, path: String) -> ProxyRoute? {
        Self.inMatchingOrder(routes).first { $0.pattern.matches(method: method, path: path[...]) }
    }

    /// `routes` in the order a request is matched against them: the most specific first.
    static func inMatchingOrder(_ routes: [ProxyRoute]) -> [ProxyRoute] {
        routes.sorted { RoutePattern.isMoreSpecific($0.pattern, than: $1.pattern) }
    }
}

/// One proxied route.
public struct ProxyRoute: Sendable, Codable, Hashable {
    public enum Authentication: String, Sendable, Codable {
        /// No token needed; one is still verified when present.
        case optional
        /// A valid access token is required (401 otherwise).
        case required
        /// Tokens are ignored.
        case none
    }

    public enum IdempotencyMode: String, Sendable, Codable {
        case off, optional, required
    }

    public var name: String
    /// The path prefix; a segment `*` matches any one segment (`/api/v1/queue/*/join`).
    public var prefix: String
    /// The methods the route takes (a GET route takes HEAD too); nil for every method.
    public var methods: [String]?
    public var upstreams: [String]
    /// The service behind the upstreams, as its signature check names itself (`booking`,
    /// `payments`): part of what `X-Gateway-Signature` signs. Defaults to the route's name.
    public var service: String
    public var timeoutMilliseconds: Int
    public var maxBodyBytes: Int
    /// Most requests this gateway has in hand at once to each of the route's upstreams (nil: no
    /// bound); beyond it a request tries the route's other upstreams, then gets 503 `upstream-busy`.
    public var maxConnections: Int?
    public var authentication: Authentication
    /// Roles of which the user must hold one (403 otherwise); empty means any authenticated user.
    public var roles: [String]
    public var rateLimits: [RateLimitRule]
    public var idempotency: IdempotencyMode
    public var queuePass: QueuePassPolicy?
    /// A route of the gateway's own (join, login, …): its policies run, then the gateway answers
    /// it itself instead of calling an upstream.
    public var local: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, prefix, methods, upstreams, service, timeoutMilliseconds = "timeout_ms", maxBodyBytes = "max_body_bytes", maxConnections = "max_connections"
        case authentication = "auth", roles, rateLimits = "rate_limits", idempotency, queuePass = "queue_pass", local
    }

    public init(
        name: String, prefix: String, methods: [String]? = nil, upstreams: [String], service: String? = nil,
        timeoutMilliseconds: Int = 10_000, maxBodyBytes: Int = 1 << 20, maxConnections: Int? = nil,
        authentication: Authentication = .optional, roles: [String] = [], rateLimits: [RateLimitRule] = [],
        idempotency: IdempotencyMode = .off, queuePass: QueuePassPolicy? = nil, local: Bool = false
    ) {
        self.name = name
        self.prefix = prefix
        self.methods = methods?.map { $0.uppercased() }
        self.upstreams = upstreams
        self.service = service ?? name
        self.timeoutMilliseconds = timeoutMilliseconds
        self.maxBodyBytes = maxBodyBytes
        self.maxConnections = maxConnections
        self.authentication = authentication
        self.roles = roles
        self.rateLimits = rateLimits
        self.idempotency = idempotency
        self.queuePass = queuePass
        self.local = local
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            prefix: try container.decode(String.self, forKey: .prefix),
            methods: try container.decodeIfPresent([String].self, forKey: .methods),
            upstreams: try container.decodeIfPresent([String].self, forKey: .upstreams) ?? [],
            service: try container.decodeIfPresent(String.self, forKey: .service),
            timeoutMilliseconds: try container.decodeIfPresent(Int.self, forKey: .timeoutMilliseconds) ?? 10_000,
            maxBodyBytes: try container.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? 1 << 20,
            maxConnections: try container.decodeIfPresent(Int.self, forKey: .maxConnections),
            authentication: try container.decodeIfPresent(Authentication.self, forKey: .authentication) ?? .optional,
            roles: try container.decodeIfPresent([String].self, forKey: .roles) ?? [],
            rateLimits: try container.decodeIfPresent([RateLimitRule].self, forKey: .rateLimits) ?? [],
            idempotency: try container.decodeIfPresent(IdempotencyMode.self, forKey: .idempotency) ?? .off,
            queuePass: try container.decodeIfPresent(QueuePassPolicy.self, forKey: .queuePass),
            local: try container.decodeIfPresent(Bool.self, forKey: .local) ?? false
        )
    }

    /// What requests the route takes.
    public var pattern: RoutePattern { RoutePattern(prefix: prefix, methods: methods) }

    func validate() throws {
        guard !name.isEmpty, prefix.hasPrefix("/") else { throw GatewayConfigurationError("route '\(name)': prefix must start with /") }
        guard !prefix.contains("?"), RequestPath.normalize(prefix) == .unchanged else {
            throw GatewayConfigurationError("route '\(name)': prefix '\(prefix)' is not in the normal form requests are routed by (no //, . or .. segments, escapes of letters and digits, ? or #), so no request would match it")
        }
        if let methods {
            guard !methods.isEmpty, methods.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter && $0.isASCII } }) else {
                throw GatewayConfigurationError("route '\(name)': methods are HTTP method names, at least one")
            }
        }
        if local {
            guard upstreams.isEmpty else { throw GatewayConfigurationError("route '\(name)' is local: it has no upstreams") }
            guard idempotency == .off else { throw GatewayConfigurationError("route '\(name)' is local: idempotency keys apply to proxied routes only") }
        } else if upstreams.isEmpty {
            throw GatewayConfigurationError("route '\(name)' has no upstream")
        }
        for upstream in upstreams where UpstreamTarget(upstream) == nil {
            throw GatewayConfigurationError("route '\(name)': upstream '\(upstream)' is not an http://host[:port][/path] URL (TLS to upstreams is not proxied)")
        }
        guard !service.isEmpty else { throw GatewayConfigurationError("route '\(name)': service must not be empty") }
        guard (1...600_000).contains(timeoutMilliseconds) else { throw GatewayConfigurationError("route '\(name)': timeout_ms out of range") }
        guard maxBodyBytes >= 0 else { throw GatewayConfigurationError("route '\(name)': max_body_bytes must be ≥ 0") }
        if let maxConnections {
            guard !local else { throw GatewayConfigurationError("route '\(name)' is local: max_connections applies to proxied routes only") }
            guard (1...100_000).contains(maxConnections) else { throw GatewayConfigurationError("route '\(name)': max_connections must be from 1 to 100000") }
        }
        for rule in rateLimits { try rule.validate(route: name) }
        if let queuePass, PassEventSource(queuePass.eventFrom) == nil {
            throw GatewayConfigurationError("route '\(name)': queue_pass.event_from is path:N, header:Name, query:name or body:field")
        }
    }
}

/// Where a guarded route finds the event whose queue pass it requires, and which methods it guards.
public struct QueuePassPolicy: Sendable, Codable, Hashable {
    /// `path:N` (the Nth segment, 0-based), `header:Name`, `query:name` or `body:field` (JSON).
    public var eventFrom: String
    /// Whether a pass is consumed by the first successful upstream response.
    public var singleUse: Bool
    /// The methods that need a pass; nil: POST, PUT and PATCH when the event comes from the
    /// body (a GET has none to name it), every method otherwise.
    public var methods: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable { case eventFrom = "event_from", singleUse = "single_use", methods }

    public init(eventFrom: String, singleUse: Bool = false, methods: [String]? = nil) {
        self.eventFrom = eventFrom
        self.singleUse = singleUse
        self.methods = methods
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.eventFrom = try container.decode(String.self, forKey: .eventFrom)
        self.singleUse = try container.decodeIfPresent(Bool.self, forKey: .singleUse) ?? false
        self.methods = try container.decodeIfPresent([String].self, forKey: .methods)?.map { $0.uppercased() }
    }

    /// Whether a request with `method` needs a pass.
    public func guards(_ method: HTTPRequest.Method) -> Bool {
        guards(method: method.rawValue)
    }

    /// Whether a request with the method named `method` (upper case) needs a pass.
    public func guards(method: String) -> Bool {
        if let methods { return methods.contains(method) }
        return !eventFrom.hasPrefix("body:") || method == "POST" || method == "PUT" || method == "PATCH"
    }
}
