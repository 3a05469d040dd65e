import NIOCore
import NIOHTTP1
import ServiceKit

extension ClientResponseHead {
    /// An interim (1xx) answer as an HTTP/1.1 client gets it: the status line and `fields` (the
    /// upstream's, hop-by-hop ones already dropped), nothing the final head adds. NIO names no
    /// reason for 103; it is named here.
    static func interim(_ status: HTTPResponseStatus, fields: HTTPHeaders, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(status.code))
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(status.code == 103 && status.reasonPhrase.isEmpty ? "Early Hints" : status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        for (name, value) in fields {
            buffer.writeHTTPField(name: name, value: value)
        }
        buffer.writeStaticString("\r\n")
        return buffer
    }
}
