import NIOCore

/// The first handler of a gateway connection, next to the socket: the edge's own answers,
/// already in wire form (``ClientResponseHead``), are written from its context and so pass no
/// HTTP encoder. Writes from the handlers behind it pass through.
final class EdgeWire: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes `bytes` to the socket's side of the pipeline, flushing when asked.
    func write(_ bytes: ByteBuffer, flush: Bool) {
        guard let context else { return }
        if flush {
            context.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
        } else {
            context.write(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
        }
    }

    /// Flushes what was written.
    func flush() {
        context?.flush()
    }
}
