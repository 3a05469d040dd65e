import NIOCore
import NIOHTTP1

/// The end of an upstream connection's pipeline: hands the response to the exchange that
/// borrowed the connection, and holds reads while the client cannot take more (backpressure).
/// Requests go out as bytes (``UpstreamRequestHead`` and the body), so the decoder is told
/// of each one.
final class UpstreamHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let decoder: UpstreamResponseDecoder
    /// The exchange using the connection; nil while it idles in the pool.
    var exchange: EdgeExchange?
    /// Whether the last response lets the connection carry another request.
    private(set) var isKeepAlive = true
    private var context: ChannelHandlerContext?
    private(set) var readsPaused = false
    private var readPending = false

    init(decoder: UpstreamResponseDecoder) {
        self.decoder = decoder
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange else {
            // An idle connection must not talk: whatever it says, it cannot be reused.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            isKeepAlive = head.isKeepAlive
            exchange.upstreamHead(head)
        case .body(let buffer): exchange.upstreamBody(buffer)
        case .end: exchange.upstreamEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let exchange = self.exchange
        self.exchange = nil
        exchange?.upstreamClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let exchange = self.exchange
        self.exchange = nil
        exchange?.upstreamClosed()
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { exchange?.upstreamBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if readsPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    /// Stops reading the upstream until ``resumeReads()``.
    func pauseReads() {
        readsPaused = true
    }

    func resumeReads() {
        readsPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }
}
