import Hummingbird
import NIOCore

/// The per-request context of the gateway: the peer's address and what the edge learned.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer (a proxy's address when behind one).
    public let remoteAddress: SocketAddress?
    /// The verified user, when the request carried a valid access token.
    public var identity: Identity?
    /// The id of this request, as sent upstream and returned in `X-Request-Id`.
    public var requestID: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// A user whose access token the gateway verified.
public struct Identity: Sendable, Hashable {
    public var userID: String {
        didSet { principal = Self.principal(of: userID) }
    }
    public var roles: Set<String> {
        didSet { sortedRoles = roles.sorted() }
    }
    public var email: String?
    /// `roles` in order, as the signed identity headers carry them: sorted once per identity
    /// (a cached token's), not once per proxied request.
    public private(set) var sortedRoles: [String]
    /// `u:<userID>`: how the waiting room, rate limits, idempotency keys and queue passes name
    /// this user, made once per identity (a cached token's), not once per proxied request.
    public private(set) var principal: String

    public init(userID: String, roles: Set<String>, email: String? = nil) {
        self.userID = userID
        self.roles = roles
        self.email = email
        self.sortedRoles = roles.sorted()
        self.principal = Self.principal(of: userID)
    }

    static func principal(of userID: String) -> String {
        "u:" + userID
    }

    public var isAdmin: Bool { roles.contains("admin") }
}
