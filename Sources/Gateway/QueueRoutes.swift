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

    /// Server-Sent Events: a `status` event whenever the place changes, then `admitted` (with the
    /// pass) or `lost`, after which the stream ends; an unchanged status is repeated every 15 s to
    /// keep idle proxies from closing the stream. A stream with a place token waits on its room's
    /// snapshot (``RoomSnapshots/change(event:after:until:at:ahead:)``): it looks at its place as
    /// often as its polls would (`poll_after_ms`: once a second near the head, a quarter of its
    /// ETA farther back), or every 15 s while nothing is released
    /// (``ReleaseRates/lookAfter(ahead:longest:)``); at once when the snapshot shows its visitor
    /// at the head (so an admission reaches it within a tick); and soon after the room's mode or
    /// rate changes (the first 1,000 in line at once, the rest within 3 s in the order of the
    /// line). Every look is the visitor's sign of life.
    func events(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let event = try context.parameters.require("event")
        guard let identity = try await visitor(of: request) else { throw QueueError.notInQueue }
        // Errors before the stream starts are ordinary problem responses.
        let spot = spot(of: request, event: event, visitor: identity.visitor)
        let seen = snapshots.version(event: event)
        let first = try await currentPlace(event: event, visitor: identity.visitor, spot: spot)
        let http = self
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let open = Metrics.Meter(label: "gateway_queue_streams", dimensions: [("event", event)])
            open.increment()
            defer { open.decrement() }
            var place = first
            var version = seen
            var lastSent: QueuePlaceBody?
            var lastWrite = ContinuousClock.now
            while true {
                let body = try await http.body(event: event, visitor: identity.visitor, place: place)
                let changed = body != lastSent
                if changed || .now - lastWrite >= Self.heartbeat {
                    try await writer.write(Self.sse(event: body.status == "admitted" ? "admitted" : "status", json: body.json()))
                    lastSent = body
                    lastWrite = .now
                }
                if body.status == "admitted" { break }
                let pollAfter = Duration.milliseconds(body.pollAfterMilliseconds ?? 1_000)
                if let spot {
                    var lookAfter = pollAfter
                    if case .waiting(_, let ahead, _, let rates) = place { lookAfter = rates.lookAfter(ahead: ahead, longest: Self.heartbeat) }
                    version = await http.snapshots.change(
                        event: event, after: version, until: .now + min(lookAfter, Self.heartbeat), at: spot, ahead: body.ahead ?? .max
                    )
                    try Task.checkCancellation()
                } else {
                    // Only Redis can place this visitor: asked no more often than their polls would.
                    try await Task.sleep(for: min(pollAfter, .seconds(1)))
                }
                do {
                    place = try await http.currentPlace(event: event, visitor: identity.visitor, spot: spot)
                } catch let error as QueueError {
                    try await writer.write(Self.sse(event: "lost", json: ByteBuffer(bytes: try JSONEncoder().encode(error.problem))))
                    break
                }
            }
            try await writer.finish(nil)
        })
    }

    /// How often an unchanged status is sent again on a live stream.
    static let heartbeat = Duration.seconds(15)

    static func sse(event: String, json: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("event: \(event)\ndata: ")
        buffer.writeImmutableBuffer(json)
        buffer.writeString("\n\n")
        return buffer
    }

    /// The body's answer with the status and cookies of `response`.
    private func encode(_ body: QueuePlaceBody, into response: Response) -> Response {
        var encoded = body.response()
        encoded.status = response.status
        for field in response.headers where field.name == .setCookie { encoded.headers.append(field) }
        return encoded
    }
}
