import NIOCore
import NIOHTTP1
import Queue

extension QueueHTTP {
    /// A status poll the room snapshot cannot answer, served on a connection's event loop from
    /// Redis: `GET /api/v1/queue/{event}/status` with a genuine visitor ticket (header or cookie),
    /// either without a place token or while the room's snapshot is fresh (so the visitor is at
    /// the head of their line, or gone from it). `queue_status.lua`'s reply comes back on the
    /// loop; only an admission (a pass to sign) leaves it. The answer is the router's: same body,
    /// same pass cookie, same problems. Nil for a poll the router serves: one with an access token
    /// (it speaks for a user), without a genuine ticket (the router refuses it), or with a place
    /// token while the snapshot is stale (the router reads it, keeping it warm). Tickets are
    /// checked through `tickets`, the cache the snapshot's answers use.
    func edgeStatus(_ head: HTTPRequestHead, tickets verified: VerifiedTokenCache, on eventLoop: any EventLoop) -> EventLoopFuture<EdgeResponse>? {
        guard head.method == .GET, let event = head.uri.queueEvent(action: "status"), !head.headers.contains(name: "authorization"),
              let visitor = head.headers.firstGenuine(header: "visitor-ticket", cookie: Self.visitorCookie, verified.visitor(from:)),
              snapshots.isFresh(event: event)
                || head.headers.firstGenuine(header: "queue-place", cookie: Self.placeCookieName(event: event), { Optional($0) }) == nil
        else { return nil }
        let path = head.uri.pathWithoutQuery
        return room.status(event: event, visitor: visitor, on: eventLoop).flatMap { place in
            if let body = QueuePlaceBody(unsigned: place) {
                return eventLoop.makeSucceededFuture(body.edgeResponse())
            }
            return eventLoop.makeFutureWithTask {
                let body = try await self.body(event: event, visitor: visitor, place: place)
                var response = body.edgeResponse()
                if let cookie = passCookie(event: event, body: body) { response.headers.add(name: "set-cookie", value: cookie.headerValue) }
                return response
            }
        }.recover { error in
            EdgeResponse.problem(for: error, path: path)
        }
    }
}
