import AsyncHTTPClient
import NIOCore
import NIOPosix

/// Why a proxied request failed at the gateway.
public enum ProxyError: Error, Sendable, Hashable {
    /// No connection to any upstream (refused, unreachable, connect timeout): nothing was sent.
    case upstreamUnreachable(route: String)
    /// The upstream did not answer in time.
    case upstreamTimeout(route: String)
    /// The upstream closed the connection or sent something broken mid-request.
    case upstreamFailed(route: String)
    /// The request body is larger than the route allows.
    case bodyTooLarge(limit: Int)
    /// The gateway holds as many connections as its descriptors allow: no upstream connection
    /// could be opened for the request, and nothing was sent (``DescriptorsExhausted``).
    case gatewayFull(route: String)
    /// Every upstream of the route has as many of this gateway's requests in hand as the route
    /// allows (`max_connections`): nothing was sent.
    case upstreamBusy(route: String)
    /// The request's `Via` names this gateway: forwarded, it came back (``ProxyVia``).
    case loopDetected(route: String)
}

/// The HTTP client of the gateway's slow paths (JWKS fetches, readiness checks of upstreams);
/// proxied requests go through the edge's own upstream pools instead.
enum SlowPathClient {
    static func make() -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(2)),
            connectionPool: .init(idleTimeout: .seconds(60))
        )
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    static func trimmedBase(_ upstream: String) -> String {
        upstream.hasSuffix("/") ? String(upstream.dropLast()) : upstream
    }
}
