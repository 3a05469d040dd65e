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
    public var userID: String
    public var roles: Set<String> {
        didSet { sortedRoles = roles.sorted() }
    }
    public var email: String?
    /// `roles` in order, as the signed identity headers carry them: sorted once per identity
    /// (a cached token's), not once per proxied request.
    public private(set) var sortedRoles: [String]

    public init(userID: String, roles: Set<String>, email: String? = nil) {
        self.userID = userID
        self.roles = roles
        self.email = email
        self.sortedRoles = roles.sorted()
    }

    public var isAdmin: Bool { roles.contains("admin") }
}
