import Foundation
import Redis
import ServiceKit

/// Settings of the gateway process.
public struct GatewayConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Bearer token that grants the admin API (`ADMIN_TOKEN`).
    public var adminToken: String
    /// Secret (≥ 32 bytes) that signs visitor tickets; every gateway of a fleet shares it.
    public var visitorTicketSecret: [UInt8]
    /// `iss` of queue passes.
    public var passIssuer: String
    /// Redis prefix of the shared queue-pass keys; nil means `SPACE:pass-keys` in Redis's key space.
    public var passKeyNamespace: String?
    /// Whether cookies carry `Secure` (set behind TLS).
    public var secureCookies: Bool
    /// How often this gateway releases visitors from every room; 0 disables the releaser.
    public var releaseInterval: Duration
    /// The proxied routes, as the gateway starts.
    public var routes: RouteTable
    /// The file the routes came from, read again on `SIGHUP` or `POST /admin/v1/routes/reload`.
    public var routesSource: RouteTableSource?
    /// Whether every answered request is written to standard output as a JSON line (`ACCESS_LOG`).
    public var accessLog = false
    /// Secret (≥ 32 bytes) that signs `X-Gateway-Signature` for the services behind the gateway.
    public var internalSecret: [UInt8]
    /// Redis prefix of the shared access-token keys; nil means `SPACE:access-keys` in Redis's key space.
    public var accessKeyNamespace: String?
    /// Limits on login attempts (subjects: the client address, then the email).
    public var loginLimits: ProxyRoute
    /// An external identity provider whose access tokens are accepted too.
    public var externalProvider: ExternalProvider?
    /// How long a rate-limit check may wait for Redis before the rules' fail mode applies.
    public var rateLimitTimeout: Duration
    /// Most client connections held at once; nil for as many as the file-descriptor limit allows
    /// with room to spare (see ``ConnectionLimit``).
    public var maxConnections: Int?
    /// The fleet this gateway reports its traffic to (`GATEWAY_FLEET`): gateways of one fleet
    /// share a console view. Letters, digits, `-` and `_`.
    public var fleet: String
    /// How this gateway is named in the fleet (`GATEWAY_INSTANCE`); `<host name>:<port>` by default.
    public var instanceName: String
    /// The last seconds of upstream responses adaptive release judges by (`ADAPTIVE_WINDOW_SECONDS`, 1–30).
    public var adaptiveWindowSeconds: Int
    /// The network an IPv6 client is counted by in `ip` rate limits (`RATE_LIMIT_IPV6_PREFIX`,
    /// 32–128, 64 by default; see ``AddressSubject``).
    public var ipv6SubjectPrefix: Int

    /// Where an external identity provider publishes its keys, what its tokens must say, and
    /// how its users and roles become the gateway's.
    public struct ExternalProvider: Sendable, Hashable {
        public var jwksURL: String
        public var issuer: String
        public var audience: String
        /// Prefix of its users' ids (`<namespace>:<sub>`), so they never collide with built-in accounts.
        public var namespace: String
        /// Its role names → the gateway's; roles it sends that are not listed are dropped, so
        /// no token gets `admin` unless the operator mapped a role to it.
        public var roles: [String: String]

        public init(jwksURL: String, issuer: String, audience: String, namespace: String = "ext", roles: [String: String] = [:]) {
            self.jwksURL = jwksURL
            self.issuer = issuer
            self.audience = audience
            self.namespace = namespace
            self.roles = roles
        }
    }

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        adminToken: String = GatewayConfiguration.developmentAdminToken,
        visitorTicketSecret: [UInt8] = GatewayConfiguration.developmentTicketSecret,
        passIssuer: String = "booking-rush",
        passKeyNamespace: String? = nil,
        secureCookies: Bool = false,
        releaseInterval: Duration = .milliseconds(100),
        routes: RouteTable = RouteTable(),
        internalSecret: [UInt8] = GatewayConfiguration.developmentInternalSecret,
        accessKeyNamespace: String? = nil,
        loginLimits: ProxyRoute = GatewayConfiguration.defaultLoginLimits,
        externalProvider: ExternalProvider? = nil,
        rateLimitTimeout: Duration = .milliseconds(100),
        maxConnections: Int? = nil,
        fleet: String = "default",
        instanceName: String? = nil,
        adaptiveWindowSeconds: Int = 5,
        ipv6SubjectPrefix: Int = 64
    ) {
        self.host = host
        self.port = port
        self.adminToken = adminToken
        self.visitorTicketSecret = visitorTicketSecret
        self.passIssuer = passIssuer
        self.passKeyNamespace = passKeyNamespace
        self.secureCookies = secureCookies
        self.releaseInterval = releaseInterval
        self.routes = routes
        self.internalSecret = internalSecret
        self.accessKeyNamespace = accessKeyNamespace
        self.loginLimits = loginLimits
        self.externalProvider = externalProvider
        self.rateLimitTimeout = rateLimitTimeout
        self.maxConnections = maxConnections
        self.fleet = fleet
        self.instanceName = instanceName ?? "\(ProcessInfo.processInfo.hostName):\(port)"
        self.adaptiveWindowSeconds = adaptiveWindowSeconds
        self.ipv6SubjectPrefix = ipv6SubjectPrefix
    }

    /// The Redis prefix of the access-token keys in `space`: the one configured, else `SPACE:access-keys`.
    public func accessKeyNamespace(in space: RedisKeySpace) -> String {
        accessKeyNamespace ?? space.key("access-keys")
    }

    /// Login attempts: 30 a minute per address (offices share addresses), 5 a minute per email
    /// (as accounts store it). Both fail closed: without Redis, logins answer 503.
    public static let defaultLoginLimits = ProxyRoute(
        name: "auth-login", prefix: "/api/v1/auth/login", upstreams: [], rateLimits: [
            RateLimitRule(name: "per-address", key: "ip", limit: 30, period: 60, fail: .closed),
            RateLimitRule(name: "per-email", key: "email", limit: 5, period: 60, fail: .closed),
        ]
    )

    /// The admin token used when `ADMIN_TOKEN` is not set: for local development only.
    public static let developmentAdminToken = "dev-admin-token"
    /// The ticket secret used when `VISITOR_TICKET_SECRET` is not set: for local development only.
    public static let developmentTicketSecret = Array("booking-rush-development-ticket-secret!!".utf8)
    /// The gateway-signature secret used when `INTERNAL_SECRET` is not set: for local development only.
    public static let developmentInternalSecret = GatewaySignature.developmentSecret

    /// Reads `ADMIN_TOKEN`, `VISITOR_TICKET_SECRET`, `INTERNAL_SECRET`, `PASS_ISSUER`,
    /// `SECURE_COOKIES`, `ACCESS_LOG`, `GATEWAY_MAX_CONNECTIONS`, `GATEWAY_FLEET`, `GATEWAY_INSTANCE`, `ADAPTIVE_WINDOW_SECONDS`, `RATE_LIMIT_IPV6_PREFIX` and the route table (`routesPath`, else `GATEWAY_ROUTES`) over the defaults.
    public static func fromEnvironment(
        host: String,
        port: Int,
        routesPath: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> GatewayConfiguration {
        var configuration = GatewayConfiguration(host: host, port: port)
        if let path = routesPath ?? environment["GATEWAY_ROUTES"], !path.isEmpty {
            configuration.routes = try RouteTable.load(path: path, environment: environment)
            configuration.routesSource = RouteTableSource(path: path, environment: environment)
        }
        if let secret = environment["INTERNAL_SECRET"], !secret.isEmpty {
            guard secret.utf8.count >= 32 else { throw GatewayConfigurationError("INTERNAL_SECRET must be at least 32 bytes") }
            configuration.internalSecret = Array(secret.utf8)
        }
        if let token = environment["ADMIN_TOKEN"], !token.isEmpty {
            guard token.utf8.count >= 16 else { throw GatewayConfigurationError("ADMIN_TOKEN must be at least 16 characters") }
            configuration.adminToken = token
        }
        if let secret = environment["VISITOR_TICKET_SECRET"], !secret.isEmpty {
            guard secret.utf8.count >= 32 else { throw GatewayConfigurationError("VISITOR_TICKET_SECRET must be at least 32 bytes") }
            configuration.visitorTicketSecret = Array(secret.utf8)
        }
        if let issuer = environment["PASS_ISSUER"], !issuer.isEmpty { configuration.passIssuer = issuer }
        if let jwks = environment["ACCESS_TOKEN_JWKS_URL"], !jwks.isEmpty {
            guard let issuer = environment["ACCESS_TOKEN_ISSUER"], let audience = environment["ACCESS_TOKEN_AUDIENCE"] else {
                throw GatewayConfigurationError("ACCESS_TOKEN_JWKS_URL needs ACCESS_TOKEN_ISSUER and ACCESS_TOKEN_AUDIENCE")
            }
            var provider = ExternalProvider(jwksURL: jwks, issuer: issuer, audience: audience)
            if let namespace = environment["ACCESS_TOKEN_NAMESPACE"], !namespace.isEmpty { provider.namespace = namespace }
            for pair in (environment["ACCESS_TOKEN_ROLES"] ?? "").split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw GatewayConfigurationError("ACCESS_TOKEN_ROLES is a list of provider-role=gateway-role pairs, e.g. staff=organizer,ops=admin")
                }
                provider.roles[parts[0]] = parts[1]
            }
            configuration.externalProvider = provider
        }
        configuration.secureCookies = try Self.switchSetting("SECURE_COOKIES", environment)
        configuration.accessLog = try Self.switchSetting("ACCESS_LOG", environment)
        if let text = environment["GATEWAY_MAX_CONNECTIONS"], !text.isEmpty {
            let largest = ConnectionLimit.largestMaximum()
            guard let maximum = Int(text), (1...max(1, largest)).contains(maximum) else {
                throw GatewayConfigurationError(
                    "GATEWAY_MAX_CONNECTIONS must be a whole number from 1 to \(largest) (the open-files limit less \(ConnectionLimit.keptDescriptors)), not \(text.prefix(40))"
                )
            }
            configuration.maxConnections = maximum
        }
        if let fleet = environment["GATEWAY_FLEET"], !fleet.isEmpty {
            guard fleet.count <= 64, fleet.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw GatewayConfigurationError("GATEWAY_FLEET must be 1-64 letters, digits, '-' or '_'")
            }
            configuration.fleet = fleet
        }
        if let instance = environment["GATEWAY_INSTANCE"], !instance.isEmpty {
            guard instance.isDisplayText(maxLength: 128) else { throw GatewayConfigurationError("GATEWAY_INSTANCE must be at most 128 printable characters") }
            configuration.instanceName = instance
        }
        if let text = environment["ADAPTIVE_WINDOW_SECONDS"], !text.isEmpty {
            guard let seconds = Int(text), (1...30).contains(seconds) else { throw GatewayConfigurationError("ADAPTIVE_WINDOW_SECONDS must be 1-30") }
            configuration.adaptiveWindowSeconds = seconds
        }
        if let text = environment["RATE_LIMIT_IPV6_PREFIX"], !text.isEmpty {
            guard let bits = Int(text.hasPrefix("/") ? String(text.dropFirst()) : text), AddressSubject.prefixLengths.contains(bits) else {
                throw GatewayConfigurationError("RATE_LIMIT_IPV6_PREFIX must be a prefix length from 32 to 128, not \(text.prefix(20))")
            }
            configuration.ipv6SubjectPrefix = bits
        }
        return configuration
    }
}

extension GatewayConfiguration {
    /// An on/off setting: unset, empty, `off`, `0` or `false` is off; `on`, `1` or `true` is on;
    /// anything else stops the start rather than being read as off (`SECURE_COOKIES=yes` would
    /// otherwise send session cookies without `Secure`).
    static func switchSetting(_ name: String, _ environment: [String: String]) throws -> Bool {
        switch environment[name]?.lowercased() {
        case nil, "", "off", "0", "false": false
        case "on", "1", "true": true
        case let other?: throw GatewayConfigurationError("\(name) is on or off, not '\(other.prefix(20))'")
        }
    }
}

/// A setting the gateway cannot start with.
public struct GatewayConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
