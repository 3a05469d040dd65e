import AsyncHTTPClient
import Crypto
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

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
}

/// The request body on its way upstream: streamed as it arrives, or already buffered
/// (when idempotency needs its fingerprint).
enum ProxyBody: Sendable {
    case streamed(RequestBody, length: Int?)
    case buffered(ByteBuffer)
}

/// An upstream's answer, its body not yet read.
struct UpstreamResponse: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: HTTPClientResponse.Body
    var contentLength: Int?

    /// A response that streams the body on to the client.
    func streamed(adding extra: HTTPFields = [:]) -> Response {
        var fields = headers
        for field in extra { fields.append(field) }
        let body = body
        return Response(status: status, headers: fields, body: ResponseBody(contentLength: contentLength) { writer in
            for try await buffer in body { try await writer.write(buffer) }
            try await writer.finish(nil)
        })
    }
}

/// Forwards requests to upstreams over a keep-alive connection pool, streaming bodies both ways.
final class ReverseProxy: Sendable {
    let client: HTTPClient
    let signingKey: SymmetricKey
    let addresses: ClientAddressResolver
    /// Whether the HTTP client injects trace context (a tracer was installed before it was made).
    let replacesTraceContext: Bool
    private let nextUpstream = Atomic<Int>(0)

    init(client: HTTPClient, signingKey: SymmetricKey, addresses: ClientAddressResolver) {
        self.client = client
        self.signingKey = signingKey
        self.addresses = addresses
        self.replacesTraceContext = ProxyHeaders.tracerInstalled
    }

    static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(2)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        )
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// Sends the request to one of the route's upstreams and streams the answer back.
    func forward(
        _ request: Request,
        body: ProxyBody,
        route: ProxyRoute,
        clientAddress: String,
        requestID: String,
        identity: Identity?,
        peer: SocketAddress?
    ) async throws -> UpstreamResponse {
        let upstream = route.upstreams[nextUpstream.wrappingAdd(1, ordering: .relaxed).oldValue % route.upstreams.count]
        var outgoing = HTTPClientRequest(url: Self.trimmedBase(upstream) + request.uri.description)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        let fields = ProxyHeaders.upstreamFields(
            from: request.head, clientAddress: clientAddress, peerIsTrusted: addresses.isTrusted(peer?.ipAddress ?? ""),
            requestID: requestID, identity: identity, signingKey: signingKey, replacingTraceContext: replacesTraceContext
        )
        outgoing.headers = HTTPHeaders(fields.map { ($0.name.rawName, $0.value) })
        switch body {
        case .buffered(let buffer):
            outgoing.headers.remove(name: "content-length")
            if buffer.readableBytes > 0 || request.method != .get { outgoing.body = .bytes(buffer) }
        case .streamed(let stream, let length):
            if let length {
                if length > 0 { outgoing.body = .stream(LimitedBody(base: stream, limit: route.maxBodyBytes), length: .known(Int64(length))) }
            } else if request.headers[.transferEncoding] != nil {
                outgoing.body = .stream(LimitedBody(base: stream, limit: route.maxBodyBytes), length: .unknown)
            }
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, deadline: .now() + .milliseconds(Int64(route.timeoutMilliseconds)))
        } catch {
            throw Self.classify(error, route: route.name)
        }
        var headers = HTTPFields()
        for (name, value) in response.headers {
            if let fieldName = HTTPField.Name(name), !ProxyHeaders.hopByHop.contains(fieldName.canonicalName), fieldName != .contentLength {
                headers.append(HTTPField(name: fieldName, value: value))
            }
        }
        headers[.xRequestID] = requestID
        return UpstreamResponse(
            status: HTTPResponse.Status(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
            headers: headers,
            body: response.body,
            contentLength: response.headers.first(name: "content-length").flatMap { Int($0) }
        )
    }

    static func trimmedBase(_ upstream: String) -> String {
        upstream.hasSuffix("/") ? String(upstream.dropLast()) : upstream
    }

    /// Maps client errors to what the client of the gateway should hear.
    static func classify(_ error: any Error, route: String) -> any Error {
        if let error = error as? ProxyError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout: return ProxyError.upstreamTimeout(route: route)
            case .connectTimeout, .socksHandshakeTimeout: return ProxyError.upstreamUnreachable(route: route)
            default: return ProxyError.upstreamFailed(route: route)
            }
        }
        if error is NIOConnectionError || error is ChannelError || (error as? IOError)?.errnoCode == ECONNREFUSED {
            return ProxyError.upstreamUnreachable(route: route)
        }
        return ProxyError.upstreamFailed(route: route)
    }
}

/// A request body that fails with `ProxyError.bodyTooLarge` once it passes `limit` bytes.
struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limit: Int
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            seen += buffer.readableBytes
            if seen > limit { throw ProxyError.bodyTooLarge(limit: limit) }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit)
    }
}
