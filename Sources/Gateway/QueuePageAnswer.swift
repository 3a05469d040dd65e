import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Queue

/// What the waiting-room page answers, whoever serves it (the router or the edge): the page, or
/// once admitted a `303` to the room's target; with the cookies to set.
struct QueuePageAnswer: Sendable {
    var status: HTTPResponse.Status
    var cookies: [QueueCookie]
    /// The page's markup; nil for a redirect.
    var html: String?
    /// Where a redirect sends the visitor.
    var location: String?

    static let contentSecurityPolicy = "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; worker-src 'self'"

    /// The page's fields beside the cookies: the markup's type, never cached, its security policy.
    private var fields: [(HTTPField.Name, String)] {
        if let location { return [(.location, location)] }
        return [(.contentType, "text/html; charset=utf-8"), (.cacheControl, "no-store"), (.contentSecurityPolicy, Self.contentSecurityPolicy)]
    }

    /// The answer for the router.
    var response: Response {
        var headers = HTTPFields()
        for (name, value) in fields { headers[name] = value }
        var response = Response(status: status, headers: headers, body: html.map { ResponseBody(byteBuffer: ByteBuffer(string: $0)) } ?? ResponseBody())
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    /// The answer for the edge.
    var edgeResponse: EdgeResponse {
        let body = ByteBuffer(string: html ?? "")
        var headers = HTTPHeaders()
        for (name, value) in fields { headers.add(name: name.rawName, value: value) }
        headers.add(name: "content-length", value: String(body.readableBytes))
        for cookie in cookies { headers.add(name: "set-cookie", value: cookie.headerValue) }
        return EdgeResponse(status: HTTPResponseStatus(statusCode: status.code), headers: headers, body: body)
    }
}

extension QueueHTTP {
    /// Joins `joiner` to `event`'s room (once) and makes the page showing their place: their
    /// place token and, once admitted, their pass travel in cookies, never in a URL. A room that
    /// asks for proof of work gets the page that solves it and joins.
    func pageAnswer(event: String, joiner: QueueJoiner) async throws -> QueuePageAnswer {
        var cookies = joiner.cookie.map { [$0] } ?? []
        let body: QueuePlaceBody
        do {
            let joined = try await room.join(event: event, visitor: joiner.visitor)
            body = try await self.body(event: event, visitor: joiner.visitor, place: joined.place)
            if let spot = joined.spot { cookies.append(placeCookie(event: event, token: placeToken(event: event, visitor: joiner.visitor, spot: spot))) }
        } catch QueueError.proofRequired {
            // The page solves a challenge in a Web Worker, joins with it, then loads again.
            return QueuePageAnswer(status: .ok, cookies: cookies, html: WaitingRoomHTML.render(event: event, body: QueuePlaceBody(status: "proof")))
        }
        if body.status == "admitted", let cookie = passCookie(event: event, body: body) {
            cookies.append(cookie)
            if let target = body.targetURL { return QueuePageAnswer(status: .seeOther, cookies: cookies, location: target) }
        }
        return QueuePageAnswer(status: .ok, cookies: cookies, html: WaitingRoomHTML.render(event: event, body: body))
    }

    /// The page served on a connection's event loop: `GET /waiting-room/{event}` for a valid event
    /// id, made by a short task, so that the connection keeps none of the router's memory for
    /// the live stream that follows on it. Nil for a request the router must serve.
    func edgePage(_ head: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<EdgeResponse>? {
        guard head.method == .GET, let event = head.uri.pageEvent else { return nil }
        let path = head.uri.pathWithoutQuery
        let joiner = edgeJoiner(head)
        return eventLoop.makeFutureWithTask {
            do {
                return try await pageAnswer(event: event, joiner: joiner).edgeResponse
            } catch {
                return EdgeResponse.problem(for: error, path: path)
            }
        }
    }
}

extension String {
    /// The event of a request target `/waiting-room/{event}` (query aside), when it is a valid event id.
    var pageEvent: String? {
        let path = pathWithoutQuery
        let prefix = "/waiting-room/"
        guard path.hasPrefix(prefix) else { return nil }
        let event = path.dropFirst(prefix.count)
        return QueueKeys.isValidEvent(utf8: event.utf8) ? String(event) : nil
    }
}
