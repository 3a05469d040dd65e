import HTTPTypes
import Hummingbird
import NIOCore
import ServiceKit

extension BookingBody: ResponseGenerator {
    /// The body as JSON, written directly: the text `ISO8601RequestContext`'s encoder writes for
    /// it (keys sorted, dates in UTC to the second, nil fields left out), without its generic walk.
    func json(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var writer = JSONObjectWriter(buffer: allocator.buffer(capacity: 256))
        writer.field("booking_id", string: bookingID)
        writer.field("confirmation_code", string: confirmationCode)
        writer.field("currency", string: currency)
        writer.field("event_id", string: eventID)
        writer.field("expires_at", date: expiresAt)
        writer.field("quantity", integer: quantity)
        writer.field("status", string: status)
        writer.field("total", integer: total)
        writer.field("zone_id", string: zoneID)
        return writer.finish()
    }

    /// A `200` answer carrying the body.
    func response(from request: Request, context: some RequestContext) -> Response {
        response(status: .ok)
    }

    /// The `201` answer for a booking just made, found at `location`.
    func created(at location: String) -> Response {
        var created = response(status: .created)
        created.headers[.location] = location
        return created
    }

    private func response(status: HTTPResponse.Status) -> Response {
        let body = json()
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(body.readableBytes)],
            body: ResponseBody(byteBuffer: body)
        )
    }
}
