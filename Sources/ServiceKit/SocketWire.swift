import NIOCore

/// The first handler of a connection, next to the socket: answers already in wire form are
/// written from its context and so pass no HTTP encoder. Writes from the handlers behind it pass
/// through.
public final class SocketWire: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = IOData

    private var context: ChannelHandlerContext?

    public init() {}

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes `bytes` to the socket's side of the pipeline, flushing when asked.
    public func write(_ bytes: ByteBuffer, flush: Bool) {
        guard let context else { return }
        if flush {
            context.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
        } else {
            context.write(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
        }
    }

    /// Flushes what was written.
    public func flush() {
        context?.flush()
    }
}

extension ByteBuffer {
    /// Writes one HTTP/1.1 field line, `name: value` and CRLF, as it is.
    public mutating func writeHTTPField(name: String, value: String) {
        writeString(name)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }
}
