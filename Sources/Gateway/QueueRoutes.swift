import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore
import Queue
import ServiceKit

extension QueueHTTP {
    /// `/api/v1/queue/{event}`: join (with a proof of work where the room asks for one), status,
    /// live events, leave, the proof-of-work challenge and the pre-queue draw's public record.
    func addRoutes(to router: Router<some RequestContext>) {
        let group = router.group("api/v1/queue/:event")
        group.get("challenge") { request, context in try await challenge(request, context) }
        group.get("draw") { request, context in try await draw(request, context) }
        group.post("join") { request, context in try await join(request, context) }
        group.get("status") { request, context in try await status(request, context) }
        group.get("events") { request, context in try await events(request, context) }
        group.delete("") { request, context in try await leave(request, context) }
    }

    func join(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let event = try context.parameters.require("event")
        let joiner = try await visitorOrNew(request, allowTokens: true)
        let result = try await room.join(event: event, visitor: joiner.visitor, proof: try proof(of: request, event: event))
        let body = try await body(event: event, visitor: joiner.visitor, place: result.place, ticket: joiner.ticket)
        return joinAnswer(event: event, joiner: joiner, result: result, body: body).response
    }

    /// A challenge to solve before joining a room that asks for proof of work.
    func challenge(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let event = try context.parameters.require("event")
        let difficulty = try await room.describe(event: event).configuration.proofOfWork ?? 0
        var response = try Response.json(challenges.issue(event: event, difficulty: difficulty))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func status(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let event = try context.parameters.require("event")
        guard let identity = try await visitor(of: request) else { throw QueueError.notInQueue }
        let place = try await currentPlace(event: event, visitor: identity.visitor, spot: spot(of: request, event: event, visitor: identity.visitor))
        let body = try await body(event: event, visitor: identity.visitor, place: place)
        var response = Response(status: .ok)
        if let cookie = passCookie(event: event, body: body) { response.setCookie(cookie) }
        return encode(body, into: response)
    }

    func leave(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let event = try context.parameters.require("event")
        guard let identity = try await visitor(of: request) else { throw QueueError.notInQueue }
        guard try await room.leave(event: event, visitor: identity.visitor) else { throw QueueError.notInQueue }
        snapshots.departed(event: event, visitor: identity.visitor)
        return Response(status: .noContent)
    }

    /// The body's answer with the status and cookies of `response`.
    private func encode(_ body: QueuePlaceBody, into response: Response) -> Response {
        var encoded = body.response()
        encoded.status = response.status
        for field in response.headers where field.name == .setCookie { encoded.headers.append(field) }
        return encoded
    }
}
