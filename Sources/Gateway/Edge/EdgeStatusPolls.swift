import Metrics
import NIOCore
import NIOHTTP1
import Queue

/// Waiting visitors' status polls answered on the connection's event loop from this gateway's
/// room snapshot, without the router: `GET /api/v1/queue/{event}/status` with a genuine visitor
/// ticket and place token (header or cookie), from a visitor still behind the head of their line,
/// while the room's snapshot is no older than a tick. Everything else (an access token, no place
/// token, an admission, a stale snapshot, a bad event id) goes on to the router, which answers as
/// it always has. The answer is the router's, byte for byte in meaning: same body, same metrics.
/// Tickets and place tokens are checked through a ``VerifiedTokenCache``: a visitor's repeated
/// polls with the same texts cost no HMAC after the first.
struct EdgeStatusPolls: Sendable {
    /// The route name its answers are counted under: the router's pattern for the same polls.
    static let routeName = "/api/v1/queue/{event}/status"

    let tokens: VerifiedTokenCache
    let snapshots: RoomSnapshots
    private let answered: Metrics.Counter
    private let duration: Metrics.Timer

    init(tickets: VisitorTickets, snapshots: RoomSnapshots) {
        self.tokens = VerifiedTokenCache(tickets: tickets)
        self.snapshots = snapshots
        let dimensions = [("http.route", Self.routeName), ("http.request.method", "GET"), ("http.response.status_code", "200")]
        self.answered = Metrics.Counter(label: "hb.requests", dimensions: dimensions)
        self.duration = Metrics.Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
    }

    /// The answer to `head` from the room's snapshot, or nil when the router must answer it.
    func answer(_ head: HTTPRequestHead) -> EdgeResponse? {
        let started = ContinuousClock.now
        guard head.method == .GET, let event = head.uri.queueEvent(action: "status"),
              !head.headers.contains(name: "authorization"),
              let visitor = head.headers.firstGenuine(header: "visitor-ticket", cookie: QueueHTTP.visitorCookie, tokens.visitor(from:)),
              let spot = head.headers.firstGenuine(header: "queue-place", cookie: QueueHTTP.placeCookieName(event: event), {
                  tokens.spot(fromPlaceToken: $0, event: event, visitor: visitor)
              }),
              let place = snapshots.placeIfFresh(event: event, visitor: visitor, spot: spot),
              let body = QueuePlaceBody(unsigned: place)
        else { return nil }
        let response = body.edgeResponse()
        answered.increment()
        duration.record(duration: ContinuousClock.now - started)
        return response
    }
}

extension String {
    /// The event of a request target `/api/v1/queue/{event}/{action}` (query aside), when it is a valid event id.
    func queueEvent(action: StaticString) -> String? {
        let path = pathWithoutQuery.utf8
        let prefix = "/api/v1/queue/".utf8
        let suffix = UnsafeBufferPointer(start: action.utf8Start, count: action.utf8CodeUnitCount)
        guard path.count > prefix.count + suffix.count + 1, path.starts(with: prefix), path.reversed().starts(with: suffix.reversed()) else { return nil }
        let end = path.index(path.endIndex, offsetBy: -suffix.count - 1)
        guard path[end] == UInt8(ascii: "/") else { return nil }
        let event = String(Substring(path[path.index(path.startIndex, offsetBy: prefix.count)..<end]))
        return QueueKeys.isValidEvent(event) ? event : nil
    }
}

extension HTTPHeaders {
    /// The first value, from the field `header` then the cookie `cookie`, that `verify` accepts.
    func firstGenuine<Value>(header: String, cookie: String, _ verify: (String) -> Value?) -> Value? {
        if let value = first(name: header), let verified = verify(value) { return verified }
        for line in self["cookie"] {
            for pair in line.split(separator: ";") {
                let pair = pair.drop { $0 == " " }
                guard pair.hasPrefix(cookie), pair.dropFirst(cookie.count).first == "=" else { continue }
                if let verified = verify(String(pair.dropFirst(cookie.count + 1))) { return verified }
            }
        }
        return nil
    }
}
