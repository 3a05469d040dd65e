import DequeModule
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Serves a connection's requests for ``FastRoute``s on its event loop and passes every other
/// request on to Hummingbird, which reads the channel behind it. One request is served at a time:
/// parts of a pipelined next request wait (and reading pauses) until the current response has
/// ended, so answers keep their order whoever writes them.
final class FastRouteHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// Hummingbird serves the request; it ends when both its request and response have.
        case passing(requestEnded: Bool, responseEnded: Bool)
        /// A fast route's request, its body arriving.
        case collecting(FastRoute, HTTPRequest, ByteBuffer?)
        /// The fast route is answering the request.
        case serving
    }

    private let routes: [FastRoute]
    private let serverName: String?
    private let wire: SocketWire
    private let gate: FastAnswerGate
    private var state = State.idle
    private var held: Deque<HTTPRequestPart> = []
    private var readPending = false
    /// Whether parts went on to Hummingbird since the last read-complete it saw.
    private var forwardedUnflushed = false

    init(routes: [FastRoute], serverName: String?, wire: SocketWire, gate: FastAnswerGate) {
        self.routes = routes
        self.serverName = serverName
        self.wire = wire
        self.gate = gate
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
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
        context.write(data, promise: promise)
        if case .end = unwrapOutboundIn(data), case .passing(let requestEnded, _) = state {
            state = .passing(requestEnded: requestEnded, responseEnded: true)
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

    private func dispatch(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
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

    private func serve(_ route: FastRoute, head: HTTPRequest, body: ByteBuffer, context: ChannelHandlerContext) {
        let started = ContinuousClock.now
        route.serve(FastRoute.Request(head: head, body: body), context.eventLoop).assumeIsolated().whenComplete { result in
            guard case .serving = self.state, context.channel.isActive else { return }
            switch result {
            case .success(.response(let status, let fields, let buffer)):
                route.metrics.record(status: status, since: started)
                self.respond(status: status, fields: fields, body: buffer, close: head.headerFields[.connection] == "close", context: context)
            case .success(.router):
                self.pass(head: head, body: body, context: context)
            case .failure:
                let problem = ProblemDetails.unhandled
                let (fields, buffer) = problem.rendered(instance: head.path ?? "")
                route.metrics.record(status: problem.status, since: started)
                self.respond(status: problem.status, fields: fields, body: buffer, close: head.headerFields[.connection] == "close", context: context)
            }
        }
    }

    /// Writes a whole answer with the fields Hummingbird adds to its own (`Date`, `Server`).
    private func respond(status: HTTPResponse.Status, fields: HTTPFields, body: ByteBuffer, close: Bool, context: ChannelHandlerContext) {
        wire.write(Self.answer(status: status, fields: fields, body: body, serverName: serverName, allocator: context.channel.allocator), flush: false)
        // The connection-state handler sees the answer end; the gate keeps the `.end` from the encoders.
        gate.expectWrittenAnswerEnd()
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if close {
            context.close(promise: nil)
        } else {
            requestDone(context: context)
        }
    }

    /// A whole answer in wire form, as NIO's encoder writes one with a length: status line,
    /// `fields`, `Content-Length`, the `Date` and `Server` Hummingbird adds to its own, then `body`.
    static func answer(status: HTTPResponse.Status, fields: HTTPFields, body: ByteBuffer, serverName: String?, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 160 + fields.count * 48 + body.readableBytes)
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(status.code))
        buffer.writeStaticString(" ")
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        for field in fields where field.name != .contentLength && field.name != .date && field.name != .server {
            buffer.writeHTTPField(name: field.name.rawName, value: field.value)
        }
        buffer.writeHTTPField(name: HTTPField.Name.contentLength.rawName, value: String(body.readableBytes))
        buffer.writeHTTPField(name: HTTPField.Name.date.rawName, value: HTTPDate.now)
        if let serverName { buffer.writeHTTPField(name: HTTPField.Name.server.rawName, value: serverName) }
        buffer.writeStaticString("\r\n")
        buffer.writeImmutableBuffer(body)
        return buffer
    }

    /// The router answers after all: it gets the whole request, as if it had come straight to it.
    private func pass(head: HTTPRequest, body: ByteBuffer, context: ChannelHandlerContext) {
        state = .passing(requestEnded: true, responseEnded: false)
        forward(.head(head), context: context)
        if body.readableBytes > 0 { forward(.body(body), context: context) }
        forward(.end(nil), context: context)
        forwardedUnflushed = false
        context.fireChannelReadComplete()
    }

    private func forward(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        forwardedUnflushed = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// Serves the parts held behind the request just done; parts passed on outside a read are
    /// delivered at once, as no read-complete will come for them.
    private func requestDone(context: ChannelHandlerContext) {
        state = .idle
        dispatchHeld(context: context)
        if forwardedUnflushed {
            forwardedUnflushed = false
            context.fireChannelReadComplete()
        }
    }
}
