import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Queue
import ServiceKit

/// The JSON of a visitor's place, as join, status, the event stream and the edge's snapshot
/// answers send it. Fields that are nil are left out.
struct QueuePlaceBody: Sendable, Equatable {
    var status: String
    var position: Int?
    var ahead: Int?
    var etaSeconds: Int?
    var pollAfterMilliseconds: Int?
    var opensAt: Int64?
    var ticket: String?
    var pass: String?
    var passExpiresAt: Int64?
    var targetURL: String?
    /// The signed record of the visitor's spot (join only), for polls answered from a snapshot.
    var place: String?

    /// The body of a place that needs no pass signed (waiting, or in the pre-queue); nil for an admission.
    init?(unsigned place: VisitorPlace, ticket: String? = nil, now: Date = Date()) {
        switch place {
        case .waiting(let position, let ahead, _, let rates):
            self.init(
                status: "waiting", position: position, ahead: ahead, etaSeconds: rates.eta(ahead: ahead),
                pollAfterMilliseconds: rates.pollAfterMilliseconds(ahead: ahead), ticket: ticket
            )
        case .prequeue(let opensAt, _, let idleTimeout):
            let remaining = opensAt.subtractingReportingOverflow(Int64(now.timeIntervalSince1970 * 1000))
            let opening = remaining.overflow ? 10_000 : Int(max(1_000, min(10_000, remaining.partialValue)))
            let untilOpening = max(1_000, ReleaseRates.within(idleTimeout: idleTimeout, milliseconds: opening))
            self.init(status: "prequeue", pollAfterMilliseconds: untilOpening, opensAt: opensAt, ticket: ticket)
        case .admitted:
            return nil
        }
    }

    init(
        status: String, position: Int? = nil, ahead: Int? = nil, etaSeconds: Int? = nil, pollAfterMilliseconds: Int? = nil,
        opensAt: Int64? = nil, ticket: String? = nil, pass: String? = nil, passExpiresAt: Int64? = nil,
        targetURL: String? = nil, place: String? = nil
    ) {
        self.status = status
        self.position = position
        self.ahead = ahead
        self.etaSeconds = etaSeconds
        self.pollAfterMilliseconds = pollAfterMilliseconds
        self.opensAt = opensAt
        self.ticket = ticket
        self.pass = pass
        self.passExpiresAt = passExpiresAt
        self.targetURL = targetURL
        self.place = place
    }

    /// The body as a JSON object.
    func json(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 96 + (ticket?.utf8.count ?? 0) + (pass?.utf8.count ?? 0) + (place?.utf8.count ?? 0))
        var writer = JSONObjectWriter(buffer: buffer)
        writer.field("status", string: status)
        writer.field("position", integer: position)
        writer.field("ahead", integer: ahead)
        writer.field("eta_seconds", integer: etaSeconds)
        writer.field("poll_after_ms", integer: pollAfterMilliseconds)
        writer.field("opens_at", integer: opensAt)
        writer.field("ticket", string: ticket)
        writer.field("pass", string: pass)
        writer.field("pass_expires_at", integer: passExpiresAt)
        writer.field("target_url", string: targetURL)
        writer.field("place", string: place)
        buffer = writer.finish()
        return buffer
    }

    /// The edge's answer carrying the body, never cached.
    func edgeResponse(status: HTTPResponseStatus = .ok) -> EdgeResponse {
        let json = json()
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "content-type", value: "application/json; charset=utf-8")
        headers.add(name: "cache-control", value: "no-store")
        headers.add(name: "content-length", value: String(json.readableBytes))
        return EdgeResponse(status: status, headers: headers, body: json)
    }

    /// A `200` answer carrying the body, never cached.
    func response() -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: json())
        )
    }
}
