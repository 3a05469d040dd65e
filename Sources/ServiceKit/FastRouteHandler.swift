import DequeModule
import NIOCore
import NIOHTTP1

/// Serves a connection's requests for ``FastRoute``s on its event loop, as NIO's decoder reads
/// them, and passes every other request on to Hummingbird's side of the pipeline behind it (the
/// HTTP types codec, connection state, the async channel the router reads). One request is
/// served at a time: parts of a pipelined next request wait (and reading pauses) until the
/// current response has ended, so answers keep their order whoever writes them.
///
/// It sees every request and every answer, so it keeps the connection's idle timeout and ends
/// the connection on graceful shutdown once the answer in progress is written
/// (`FastRouteHandler+Ending.swift`); Hummingbird's connection-state handler behind it keeps no
/// timeout of its own.
final class FastRouteHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        case idle
        /// Hummingbird serves the request; it ends when both its request and response have.
        case passing(requestEnded: Bool, responseEnded: Bool)
        /// A fast route's request, its body arriving.
        case collecting(FastRoute, HTTPRequestHead, ByteBuffer?)
        /// The fast route is answering the request.
        case serving
    }

    let routes: [FastRoute]
    let serverName: String?
    let wire: SocketWire
    let idleTimeout: TimeAmount
    var state = State.idle
    var held: Deque<HTTPServerRequestPart> = []
    var readPending = false
    /// Whether parts went on to Hummingbird since the last read-complete it saw.
    var forwardedUnflushed = false
    /// The connection ends after the answer in progress: the server is shutting down, the client
    /// asked for it, or the request asked to switch protocols (NIO's decoder parses nothing after
    /// it, ``NIOHTTP1/HTTPRequestHead/stopsRequestParsing``). The answer says `Connection: close`.
    var quiescing = false
    /// The client shut its side; the router's side hears of it once the requests it sent are answered.
    var inputClosedPending = false
    /// When a request part last arrived or an answer last ended.
    var lastActive = NIODeadline.now()
    var idleCheck: Scheduled<Void>?

    init(routes: [FastRoute], serverName: String?, wire: SocketWire, idleTimeout: TimeAmount) {
        self.routes = routes
        self.serverName = serverName
        self.wire = wire
        self.idleTimeout = idleTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActive = .now()
        held.append(unwrapInboundIn(data))
        dispatchHeld(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard forwardedUnflushed else { return }
        forwardedUnflushed = false
        context.fireChannelReadComplete()
    }

    /// Holds reads while parts wait: a client pipelining requests cannot pile them up here.
    func read(context: ChannelHandlerContext) {
        if held.isEmpty {
            context.read()
        } else {
            readPending = true
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if quiescing, case .head(var head) = part, head.status.code >= 200 {
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        } else {
            context.write(data, promise: promise)
        }
        if case .end = part, case .passing(let requestEnded, _) = state {
            state = .passing(requestEnded: requestEnded, responseEnded: true)
            answerEnded(context: context)
            if requestEnded { requestDone(context: context) }
        }
    }

    private func dispatchHeld(context: ChannelHandlerContext) {
        while let part = held.first {
            switch (state, part) {
            case (.serving, _), (.passing, .head), (.collecting, .head): return
            default: break
            }
            held.removeFirst()
            dispatch(part, context: context)
        }
        if readPending, held.isEmpty {
            readPending = false
            context.read()
        }
    }

    private func dispatch(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            // A fast route reads the whole body, and the router reads or drains it.
            if head.expectsContinue { wire.writeContinue(allocator: context.channel.allocator) }
            if head.stopsRequestParsing { quiescing = true }
            if let route = routes.first(where: { $0.matches(head) }) {
                state = .collecting(route, head, nil)
            } else {
                state = .passing(requestEnded: false, responseEnded: false)
                forward(part, context: context)
            }
        case (.collecting(let route, let head, var body), .body(let buffer)):
            if body == nil { body = buffer } else { body!.writeImmutableBuffer(buffer) }
            if body!.readableBytes > route.maxBodyBytes {
                state = .passing(requestEnded: false, responseEnded: false)
                forward(.head(head), context: context)
                forward(.body(body!), context: context)
            } else {
                state = .collecting(route, head, body)
            }
        case (.collecting(let route, let head, let body), .end):
            state = .serving
            serve(route, head: head, body: body ?? context.channel.allocator.buffer(capacity: 0), context: context)
        case (.passing, .body):
            forward(part, context: context)
        case (.passing(_, let responseEnded), .end):
            forward(part, context: context)
            state = .passing(requestEnded: true, responseEnded: responseEnded)
            if responseEnded { requestDone(context: context) }
        case (.idle, .body), (.idle, .end), (.collecting, .head), (.passing, .head), (.serving, _):
            preconditionFailure("parts are dispatched in order, one request at a time")
        }
    }

    func forward(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        forwardedUnflushed = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// Serves the parts held behind the request just done (or ends the connection when the server
    /// is shutting down); parts passed on outside a read are delivered at once, as no
    /// read-complete will come for them.
    func requestDone(context: ChannelHandlerContext) {
        state = .idle
        if quiescing {
            held.removeAll()
            context.flush()
            context.close(promise: nil)
            return
        }
        dispatchHeld(context: context)
        if forwardedUnflushed {
            forwardedUnflushed = false
            context.fireChannelReadComplete()
        }
        passInputClosedWhenAnswered(context: context)
    }
}
