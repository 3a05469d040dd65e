import NIOCore
import NIOHTTP1
import Queue

/// Waiting visitors' status polls answered on the connection's event loop from this gateway's
/// room snapshot, without the router: `GET /api/v1/queue/{event}/status` with a genuine visitor
/// ticket and place token (header or cookie), from a visitor still behind the head of their line,
/// while the room's snapshot is fresh (``RoomSnapshots/placeIfFresh(event:visitor:spot:)``).
/// Everything else (an access token, no place token, an admission, a stale snapshot, a bad event
/// id) goes on to the router, which answers as it always has. The answer is the router's, byte
/// for byte in meaning: same body, same metrics.
/// Tickets and place tokens are checked through a ``VerifiedTokenCache``: a visitor's repeated
/// polls with the same texts cost one lookup and no HMAC after the first.
struct EdgeStatusPolls: Sendable {
    /// The route name its answers are counted under: the router's pattern for the same polls.
    static let routeName = "/api/v1/queue/{event}/status"

    let tokens: VerifiedTokenCache
    let snapshots: RoomSnapshots
    private let metrics = EdgeAnswerMetrics(route: routeName)

    init(tickets: VisitorTickets, snapshots: RoomSnapshots) {
        self.tokens = VerifiedTokenCache(tickets: tickets)
        self.snapshots = snapshots
    }

    /// The answer to `head` from the room's snapshot, or nil when the router must answer it.
    func answer(_ head: HTTPRequestHead) -> EdgeResponse? {
        guard head.method == .GET else { return nil }
        let started = ContinuousClock.now
        guard let (event, visitor, spot) = tokens.placedVisitor(head, action: "status"),
              let place = snapshots.placeIfFresh(event: event, visitor: visitor, spot: spot),
              let body = QueuePlaceBody(unsigned: place)
        else { return nil }
        let response = body.edgeResponse()
        metrics.record(since: started)
        return response
    }
}

extension String {
    /// The event of a request target `/api/v1/queue/{event}/{action}` (query aside), when it is a
    /// valid event id. Reads the target's bytes in place: no generic collection walks.
    func queueEvent(action: StaticString) -> String? {
        var target = self
        return target.withUTF8 { bytes -> String? in
            let prefix: StaticString = "/api/v1/queue/"
            let suffix = UnsafeBufferPointer(start: action.utf8Start, count: action.utf8CodeUnitCount)
            let end = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
            let eventEnd = end - suffix.count - 1
            guard eventEnd > prefix.utf8CodeUnitCount,
                  UnsafeBufferPointer(rebasing: bytes[..<prefix.utf8CodeUnitCount])
                      .elementsEqual(UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)),
                  bytes[eventEnd] == UInt8(ascii: "/"),
                  UnsafeBufferPointer(rebasing: bytes[(eventEnd + 1)..<end]).elementsEqual(suffix)
            else { return nil }
            let event = UnsafeBufferPointer(rebasing: bytes[prefix.utf8CodeUnitCount..<eventEnd])
            guard QueueKeys.isValidEvent(utf8: event) else { return nil }
            return String(decoding: event, as: UTF8.self)
        }
    }
}

extension VerifiedTokenCache {
    /// The room, visitor and spot of a request to `/api/v1/queue/{event}/{action}` from a genuine
    /// ticket with its place token (each from its field, else its cookie) and no access token
    /// (which speaks for a user); nil for any other request.
    func placedVisitor(_ head: HTTPRequestHead, action: StaticString) -> (event: String, visitor: String, spot: QueueSpot)? {
        guard let event = head.uri.queueEvent(action: action),
              !head.headers.contains(name: "authorization"),
              let ticket = head.headers.firstGenuine(header: "visitor-ticket", cookie: QueueHTTP.visitorCookie, verified(ticket:)),
              let spot = head.headers.firstGenuine(header: "queue-place", cookie: QueueHTTP.placeCookieName(event: event), {
                  spot(fromPlaceToken: $0, event: event, of: ticket)
              })
        else { return nil }
        return (event, ticket.visitor, spot)
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
