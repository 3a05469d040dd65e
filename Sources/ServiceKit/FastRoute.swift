import HTTPTypes
import Metrics
import NIOCore
import NIOHTTP1
import Synchronization

/// A route a service answers on the connection's event loop, ahead of its Hummingbird router:
/// no task, no async sequence, no middleware stack between the request and its answer. Meant
/// for the few routes that carry a sale's load (a reservation); every other request, and every
/// request the route hands back with ``FastAnswer/router``, is served by the router as before.
///
/// The route's answers are counted under the router's metrics (`hb.requests`,
/// `http.server.request.duration`) with `pattern` as `http.route`, so dashboards see one route.
/// While a tracer is installed, services leave their fast routes out: the router's
/// `TracingMiddleware` makes the request's span.
public struct FastRoute: Sendable {
    /// What a fast route gets: the request's head as NIO's decoder read it (no conversion to
    /// `HTTPRequest` on the fast path) and its whole body.
    public struct Request: Sendable {
        public var head: HTTPRequestHead
        public var body: ByteBuffer
    }

    /// Answers a request on `eventLoop`. The future must complete on that loop.
    public typealias Serve = @Sendable (Request, _ eventLoop: any EventLoop) -> EventLoopFuture<FastAnswer>

    public let method: HTTPRequest.Method
    /// The exact path it serves (no parameters, the query aside).
    public let path: String
    /// The router's pattern for the same requests, as its metrics name the route.
    public let pattern: String
    /// A longer body goes to the router, which refuses it in its own words.
    public let maxBodyBytes: Int
    let serve: Serve
    let metrics: FastRouteMetrics
    private let wireMethod: HTTPMethod

    public init(method: HTTPRequest.Method, path: String, pattern: String? = nil, maxBodyBytes: Int = 64 << 10, serve: @escaping Serve) {
        self.method = method
        self.path = path
        self.pattern = pattern ?? path
        self.maxBodyBytes = maxBodyBytes
        self.serve = serve
        self.metrics = FastRouteMetrics(route: self.pattern, method: method)
        self.wireMethod = HTTPMethod(rawValue: method.rawValue)
    }

    /// Whether `head` is a request for this route.
    func matches(_ head: HTTPRequestHead) -> Bool {
        guard head.method == wireMethod else { return false }
        var bytes = head.uri.utf8[...]
        if let query = bytes.firstIndex(of: UInt8(ascii: "?")) { bytes = bytes[..<query] }
        return bytes.elementsEqual(path.utf8)
    }
}

/// What a ``FastRoute`` decided.
public enum FastAnswer: Sendable {
    /// The whole answer, written as it is.
    case response(HTTPResponse.Status, HTTPFields, ByteBuffer)
    /// The router serves the request after all (a case the fast route leaves to it); whatever
    /// the fast route did must be safe to do again.
    case router

    /// `problem` as `application/problem+json`, `instance` set to `path` where it has none.
    public static func problem(_ problem: ProblemDetails, path: String) -> FastAnswer {
        let (fields, body) = problem.rendered(instance: path)
        return .response(problem.status, fields, body)
    }
}

/// The router's request metrics, for the answers a fast route writes itself: the same labels
/// and dimensions as Hummingbird's `MetricsMiddleware`, made once per status.
final class FastRouteMetrics: Sendable {
    private struct Instruments: Sendable {
        let requests: Metrics.Counter
        let duration: Metrics.Timer
        let errors: Metrics.Counter?
    }

    let route: String
    let method: HTTPRequest.Method
    private let byStatus = Mutex<[Int: Instruments]>([:])

    init(route: String, method: HTTPRequest.Method) {
        self.route = route
        self.method = method
    }

    func record(status: HTTPResponse.Status, since started: ContinuousClock.Instant) {
        let instruments = byStatus.withLock { cache in
            if let made = cache[status.code] { return made }
            let made = make(status)
            cache[status.code] = made
            return made
        }
        instruments.requests.increment()
        instruments.duration.record(duration: ContinuousClock.now - started)
        instruments.errors?.increment()
    }

    private func make(_ status: HTTPResponse.Status) -> Instruments {
        let common = [("http.route", route), ("http.request.method", method.rawValue)]
        let dimensions = common + [("http.response.status_code", String(status.code))]
        return Instruments(
            requests: Metrics.Counter(label: "hb.requests", dimensions: dimensions),
            duration: Metrics.Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds),
            errors: status.code >= 400 ? Metrics.Counter(label: "hb.request.errors", dimensions: common + [("error.type", String(status.code))]) : nil
        )
    }
}
