import HTTPTypes
import NIOCore
import NIOHTTP1

extension FastRouteHandler {
    func serve(_ route: FastRoute, head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        let started = ContinuousClock.now
        route.serve(FastRoute.Request(head: head, body: body), context.eventLoop).assumeIsolated().whenComplete { result in
            guard case .serving = self.state, context.channel.isActive else { return }
            switch result {
            case .success(.response(let status, let fields, let buffer)):
                route.metrics.record(status: status, since: started)
                self.respond(status: status, fields: fields, body: buffer, close: !head.isKeepAlive, context: context)
            case .success(.router):
                self.pass(head: head, body: body, context: context)
            case .failure:
                let problem = ProblemDetails.unhandled
                let (fields, buffer) = problem.rendered(instance: head.uri)
                route.metrics.record(status: problem.status, since: started)
                self.respond(status: problem.status, fields: fields, body: buffer, close: !head.isKeepAlive, context: context)
            }
        }
    }

    /// Writes a whole answer with the fields Hummingbird adds to its own (`Date`, `Server`),
    /// straight to the socket: no encoder behind this handler frames it.
    private func respond(status: HTTPResponse.Status, fields: HTTPFields, body: ByteBuffer, close: Bool, context: ChannelHandlerContext) {
        if close { quiescing = true }
        var fields = fields
        if quiescing { fields[.connection] = "close" }
        wire.write(Self.answer(status: status, fields: fields, body: body, serverName: serverName, allocator: context.channel.allocator), flush: true)
        answerEnded(context: context)
        requestDone(context: context)
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
    private func pass(head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        state = .passing(requestEnded: true, responseEnded: false)
        forward(.head(head), context: context)
        if body.readableBytes > 0 { forward(.body(body), context: context) }
        forward(.end(nil), context: context)
        forwardedUnflushed = false
        context.fireChannelReadComplete()
    }
}
