import NIOCore
import NIOHTTP1
import Queue

/// Which live streams the edge serves itself: `GET /api/v1/queue/{event}/events` over HTTP/1.1
/// from a visitor with a genuine ticket and place token (header or cookie) and no access token.
/// Such a stream waits on the room's snapshot and needs no task of its own (``EdgeQueueStream``);
/// every other stream (a user's, one without a place token) goes on to the router's
/// ``QueueHTTP/events(_:_:)``, which answers in the same words.
struct EdgeQueueStreams: Sendable {
    /// The route name its streams are counted under: the router's pattern for the same requests.
    static let routeName = "/api/v1/queue/{event}/events"

    /// A stream the edge serves: whose place, filed where.
    struct Request: Sendable {
        var event: String
        var visitor: String
        var spot: QueueSpot
    }

    let queue: QueueHTTP
    /// The cache the snapshot's status answers check tickets and place tokens through.
    let tokens: VerifiedTokenCache
    let metrics = EdgeAnswerMetrics(route: routeName)

    /// The stream `head` asks for, when the edge serves it; nil when the router must.
    func request(_ head: HTTPRequestHead) -> Request? {
        guard head.method == .GET, head.version == .http1_1, let (event, visitor, spot) = tokens.placedVisitor(head, action: "events") else { return nil }
        return Request(event: event, visitor: visitor, spot: spot)
    }
}
