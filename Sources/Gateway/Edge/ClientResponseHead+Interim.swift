import NIOCore
import NIOHTTP1
import ServiceKit

extension ClientResponseHead {
    /// An interim (1xx) answer as an HTTP/1.1 client gets it: the status line and `fields` (the
    /// upstream's, hop-by-hop ones already dropped), nothing the final head adds.
    static func interim(_ status: HTTPResponseStatus, fields: HTTPHeaders, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        writeStatusLine("HTTP/1.1 ", status, into: &buffer)
        for (name, value) in fields {
            buffer.writeHTTPField(name: name, value: value)
        }
        buffer.writeStaticString("\r\n")
        return buffer
    }
}
