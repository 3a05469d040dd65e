import NIOCore
import NIOHTTPTypes

/// Sits between the HTTP codecs and the connection-state handler of a ``FastRouteChannel``. A
/// fast route's answer goes to the socket as bytes through ``SocketWire``; its `.end` part then
/// still passes the connection-state handler (which counts answers for its idle timeout and
/// graceful close) and is dropped here, so no encoder sees an answer it did not frame. Every
/// other part passes through.
final class FastAnswerGate: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Whether the next `.end` closes an answer written as bytes.
    private var endsWrittenAnswer = false

    /// The next `.end` to pass closes an answer already written through the wire.
    func expectWrittenAnswerEnd() {
        endsWrittenAnswer = true
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if endsWrittenAnswer, case .end = unwrapOutboundIn(data) {
            endsWrittenAnswer = false
            promise?.succeed()
            return
        }
        context.write(data, promise: promise)
    }
}
