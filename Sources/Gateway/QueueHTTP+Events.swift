import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore
import Queue

extension QueueHTTP {
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
    ///
    /// The edge serves the streams of ticket holders with a place token itself
    /// (``EdgeQueueStream``), in the same words; this route serves the others.
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
            let open = Self.openStreams(event: event)
            open.increment()
            defer { open.decrement() }
            var place = first
            var version = seen
            var lastSent: QueuePlaceBody?
            var lastWrite = ContinuousClock.now
            while true {
                let body = try await http.body(event: event, visitor: identity.visitor, place: place)
                if body != lastSent || .now - lastWrite >= Self.heartbeat {
                    try await writer.write(Self.streamEvent(body))
                    lastSent = body
                    lastWrite = .now
                }
                if body.status == "admitted" { break }
                if let spot {
                    version = await http.snapshots.change(
                        event: event, after: version, until: .now + Self.lookAgain(after: place, body: body), at: spot, ahead: body.ahead ?? .max
                    )
                    try Task.checkCancellation()
                } else {
                    // Only Redis can place this visitor: asked no more often than their polls would.
                    try await Task.sleep(for: min(.milliseconds(body.pollAfterMilliseconds ?? 1_000), .seconds(1)))
                }
                do {
                    place = try await http.currentPlace(event: event, visitor: identity.visitor, spot: spot)
                } catch let error as QueueError {
                    try await writer.write(Self.lostEvent(error))
                    break
                }
            }
            try await writer.finish(nil)
        })
    }

    /// How often an unchanged status is sent again on a live stream.
    static let heartbeat = Duration.seconds(15)

    /// The gauge of a room's live streams on this gateway.
    static func openStreams(event: String) -> Metrics.Meter {
        Metrics.Meter(label: "gateway_queue_streams", dimensions: [("event", event)])
    }

    /// How long a stream that has just shown `body` for `place` waits on the room's snapshot
    /// before it looks again: as long as the visitor's polls would, every 15 s while the room
    /// releases nobody, never longer than the heartbeat.
    static func lookAgain(after place: VisitorPlace, body: QueuePlaceBody) -> Duration {
        guard case .waiting(_, let ahead, _, let rates) = place else { return min(.milliseconds(body.pollAfterMilliseconds ?? 1_000), heartbeat) }
        return min(rates.lookAfter(ahead: ahead, longest: heartbeat), heartbeat)
    }

    /// The event showing `body`: `admitted` (with the pass) or `status`.
    static func streamEvent(_ body: QueuePlaceBody) -> ByteBuffer {
        sse(event: body.status == "admitted" ? "admitted" : "status", json: body.json())
    }

    /// The `lost` event, with the problem, that ends a stream whose visitor the room no longer places.
    static func lostEvent(_ error: QueueError) -> ByteBuffer {
        sse(event: "lost", json: ByteBuffer(bytes: (try? JSONEncoder().encode(error.problem)) ?? Data("{}".utf8)))
    }

    static func sse(event: String, json: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("event: \(event)\ndata: ")
        buffer.writeImmutableBuffer(json)
        buffer.writeString("\n\n")
        return buffer
    }
}
