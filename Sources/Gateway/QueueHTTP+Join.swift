import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Queue

/// What a join answers, whoever serves it (the router or the edge): the status, the cookies to
/// set and the body.
struct QueueJoinAnswer: Sendable {
    var status: HTTPResponse.Status
    var cookies: [QueueCookie]
    var body: QueuePlaceBody

    /// The answer for the router.
    var response: Response {
        var response = body.response()
        response.status = status
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    /// The answer for the edge.
    var edgeResponse: EdgeResponse {
        var response = body.edgeResponse(status: HTTPResponseStatus(statusCode: status.code))
        for cookie in cookies { response.headers.add(name: "set-cookie", value: cookie.headerValue) }
        return response
    }
}

/// The visitor a join speaks for: who they are, their ticket, and the cookie that hands a new one over.
typealias QueueJoiner = (visitor: String, ticket: String?, cookie: QueueCookie?)

extension QueueHTTP {
    /// The answer to `joiner`'s join that Redis filed as `result`, with `body` for its place.
    func joinAnswer(event: String, joiner: QueueJoiner, result: JoinResult, body: QueuePlaceBody) -> QueueJoinAnswer {
        var body = body
        var cookies = joiner.cookie.map { [$0] } ?? []
        if let spot = result.spot {
            let token = placeToken(event: event, visitor: joiner.visitor, spot: spot)
            body.place = token
            cookies.append(placeCookie(event: event, token: token))
        }
        if let cookie = passCookie(event: event, body: body) { cookies.append(cookie) }
        return QueueJoinAnswer(status: result.joined ? .created : .ok, cookies: cookies, body: body)
    }

    /// The visitor of a genuine ticket in `head` (field, then cookie), or a new one with a fresh
    /// ticket and its cookie: ``visitorOrNew(_:allowTokens:)`` without access tokens.
    func edgeJoiner(_ head: HTTPRequestHead) -> QueueJoiner {
        head.headers.firstGenuine(header: "visitor-ticket", cookie: Self.visitorCookie) { ticket in
            tickets.visitor(from: ticket).map { ($0, Optional(ticket), nil) }
        } ?? {
            let issued = tickets.issue()
            return (issued.visitor, issued.ticket, ticketCookie(issued.ticket))
        }()
    }

    /// A join served on a connection's event loop: `POST /api/v1/queue/{event}/join` from a
    /// visitor with a ticket or none yet (a new one is issued), with or without a proof of work.
    /// The join script's reply comes back on the loop; only an admission (a pass to sign) leaves
    /// it. Nil for a request the router must serve (one with an access token speaks for a user).
    func edgeJoin(_ head: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<EdgeResponse>? {
        guard head.method == .POST, let event = head.uri.queueEvent(action: "join"), !head.headers.contains(name: "authorization") else { return nil }
        let path = head.uri.pathWithoutQuery
        let joiner = edgeJoiner(head)
        var proof: JoinProof?
        if let solution = head.headers.first(name: "queue-proof") {
            do {
                proof = try challenges.verify(solution, event: event)
            } catch {
                return eventLoop.makeSucceededFuture(EdgeResponse.problem(for: error, path: path))
            }
        }
        let answer = eventLoop.makePromise(of: EdgeResponse.self)
        room.join(event: event, visitor: joiner.visitor, proof: proof, on: eventLoop).whenComplete { joined in
            switch joined {
            case .success(let result):
                if let body = QueuePlaceBody(unsigned: result.place, ticket: joiner.ticket) {
                    return answer.succeed(joinAnswer(event: event, joiner: joiner, result: result, body: body).edgeResponse)
                }
                answer.completeWithTask {
                    do {
                        let body = try await self.body(event: event, visitor: joiner.visitor, place: result.place, ticket: joiner.ticket)
                        return joinAnswer(event: event, joiner: joiner, result: result, body: body).edgeResponse
                    } catch {
                        return EdgeResponse.problem(for: error, path: path)
                    }
                }
            case .failure(let error):
                answer.succeed(EdgeResponse.problem(for: error, path: path))
            }
        }
        return answer.futureResult
    }
}
