import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// HTTP/1.1 connections whose ``FastRoute``s are answered on the event loop by
/// ``FastRouteHandler``; every other request goes on to the Hummingbird router.
///
/// Pipeline: ``SocketWire`` → HTTP/1 codec → ``FastRouteHandler`` (fast routes, idle timeout,
/// graceful close) → HTTP types codec → connection state → the async channel that Hummingbird's
/// responder reads. A fast route's request never becomes an `HTTPRequest` and its answer is
/// written as bytes through the wire; the router's requests and answers pass the codecs.
struct FastRouteChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let routes: [FastRoute]
    let serverName: String?
    let idleTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            let wire = SocketWire()
            try pipeline.addHandler(wire)
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false
            )
            try pipeline.addHandler(FastRouteHandler(routes: routes, serverName: serverName, wire: wire, idleTimeout: idleTimeout))
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with `routes` answered ahead of the router.
    static func http1(fastRoutes routes: [FastRoute], serverName: String?, idleTimeout: TimeAmount) -> HTTPServerBuilder {
        .init { responder in FastRouteChannel(responder: responder, routes: routes, serverName: serverName, idleTimeout: idleTimeout) }
    }
}
