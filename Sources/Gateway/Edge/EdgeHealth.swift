import NIOCore
import NIOHTTP1

/// `GET /health` answered on the connection's event loop, without the router: load balancers
/// ask it constantly, and its answer never changes while the process serves. The body and the
/// metrics are the router's (`ServiceKit`'s health route); `/ready`, which runs checks, stays
/// with the router.
struct EdgeHealth: Sendable {
    /// The route its answers are counted under, as the router names it.
    static let routeName = "/health"
    /// The router's body for `/health` (the same JSON).
    static let body = #"{"checks":{},"status":"ok"}"#

    /// The answer, made once.
    private let response: EdgeResponse
    private let metrics = EdgeAnswerMetrics(route: routeName)

    init() {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json; charset=utf-8")
        headers.add(name: "content-length", value: String(Self.body.utf8.count))
        self.response = EdgeResponse(status: .ok, headers: headers, body: ByteBuffer(string: Self.body))
    }

    /// The answer to `head` when it asks for `/health` (query aside), or nil.
    func answer(_ head: HTTPRequestHead) -> EdgeResponse? {
        guard head.method == .GET, head.uri.pathWithoutQuery == Self.routeName else { return nil }
        metrics.record(since: .now)
        return response
    }
}
