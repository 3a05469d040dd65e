import HTTPTypes
import NIOCore
import NIOHTTP1
import ServiceKit

/// The head of an answer the edge writes to its client, straight into one buffer, framed the
/// way NIO's `HTTPResponseEncoder` frames a response: no `HTTPResponseHead` copy, no encoder
/// pass, no `NIOAny` per part on the hot path.
///
/// A status that has no body (1xx, 204, 304) loses `Content-Length` and `Transfer-Encoding`; a
/// body with a length keeps it; otherwise an HTTP/1.1 body is chunked and an HTTP/1.0 one runs
/// until the connection closes. The answer to a `HEAD` (or `CONNECT`) keeps those fields and
/// carries no body. Field values come from the upstream's head (checked by the HTTP parser) or
/// from the gateway itself.
struct ClientResponseHead {
    /// How the body that follows the head travels.
    enum Framing: Equatable {
        /// No body bytes at all.
        case bodyless
        /// Body bytes as they are, their length announced or the connection's end ending them.
        case plain
        /// Body bytes in HTTP/1.1 chunks, ended by a last, empty chunk.
        case chunked
    }

    private(set) var buffer: ByteBuffer
    let framing: Framing

    /// The head answering `request` with `status` and `fields`, the request id,
    /// a `Date` when there is none, and `Connection: close` when the connection ends after it
    /// (`keep-alive` for HTTP/1.0 otherwise). Room is made for `bodyBytes` more.
    init(
        answering request: HTTPRequestHead, status: HTTPResponseStatus, fields: HTTPHeaders,
        requestID: String, close: Bool, allocator: ByteBufferAllocator, bodyBytes: Int = 0
    ) {
        let mayHaveBody = status.mayHaveResponseBody && request.method != .CONNECT
        var hasLength = false
        var hasDate = false
        for (name, _) in fields {
            if name.equalsIgnoringASCIICase("content-length") { hasLength = true }
            if name.equalsIgnoringASCIICase("date") { hasDate = true }
        }
        let chunked = mayHaveBody && !hasLength && request.version.major == 1 && request.version.minor >= 1
        framing = !mayHaveBody || request.method == .HEAD ? .bodyless : chunked ? .chunked : .plain

        buffer = allocator.buffer(capacity: 256 + bodyBytes)
        Self.writeStatusLine(request.version.minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ", status, into: &buffer)
        for (name, value) in fields where !Self.isReplaced(name, mayHaveBody: mayHaveBody) {
            buffer.writeHTTPField(name: name, value: value)
        }
        if chunked { buffer.writeStaticString("transfer-encoding: chunked\r\n") }
        buffer.writeHTTPField(name: "x-request-id", value: requestID)
        if !hasDate { buffer.writeHTTPField(name: "date", value: HTTPDate.now) }
        if close || !request.isKeepAlive {
            buffer.writeStaticString("connection: close\r\n")
        } else if request.version.minor == 0 {
            buffer.writeStaticString("connection: keep-alive\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    /// Whether the head writes its own `name` instead of the given one: the request id, the
    /// connection's fate and the transfer coding (chunked or none: the body is sent as it is
    /// framed here), and a length where there is no body.
    private static func isReplaced(_ name: String, mayHaveBody: Bool) -> Bool {
        switch name.utf8.count {
        case 10: name.equalsIgnoringASCIICase("connection")
        case 12: name.equalsIgnoringASCIICase("x-request-id")
        case 14: !mayHaveBody && name.equalsIgnoringASCIICase("content-length")
        case 17: name.equalsIgnoringASCIICase("transfer-encoding")
        default: false
        }
    }

    /// `<version><code> <reason>\r\n`; NIO names no reason for 103, which is named here.
    static func writeStatusLine(_ version: StaticString, _ status: HTTPResponseStatus, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(version)
        buffer.writeString(String(status.code))
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(status.code == 103 && status.reasonPhrase.isEmpty ? "Early Hints" : status.reasonPhrase)
        buffer.writeStaticString("\r\n")
    }

    /// Appends a whole body after the head, framed (one write for the whole answer).
    mutating func append(body: ByteBuffer) {
        guard body.readableBytes > 0 else { return }
        switch framing {
        case .bodyless:
            return
        case .plain:
            buffer.writeImmutableBuffer(body)
        case .chunked:
            buffer.writeString(String(body.readableBytes, radix: 16))
            buffer.writeStaticString("\r\n")
            buffer.writeImmutableBuffer(body)
            buffer.writeStaticString("\r\n0\r\n\r\n")
        }
    }
}
