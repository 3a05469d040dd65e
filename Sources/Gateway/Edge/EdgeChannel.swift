import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import ServiceKit

/// The gateway's HTTP/1.1 connections: requests for proxied routes are served by ``EdgeHandler``
/// on the connection's event loop; every other request goes on to the Hummingbird router.
///
/// Pipeline: ``SocketWire`` → HTTP/1 response encoder and request decoder → ``EdgeHandler``, then,
/// once a request needs the router (``RouterAttachment``), HTTP types codec → connection state →
/// the async channel that Hummingbird's responder reads. The edge writes its own answers as bytes
/// through ``SocketWire``; only the router's answers go through the encoder, which
/// ``EdgeHandler`` keeps bodiless for `HEAD` (the encoder is not paired with the decoder, as
/// `configureHTTPServerPipeline` pairs them, for that reason).
struct EdgeChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = EdgeConnection

    let responder: HTTPChannelHandler.Responder
    let core: EdgeCore
    let idleTimeout: TimeAmount?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard core.connections.admit() else {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionLimitReached())
        }
        channel.closeFuture.whenComplete { [connections = core.connections] _ in connections.release() }
        return channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            let wire = SocketWire()
            try pipeline.addHandler(wire)
            try pipeline.addHandler(HTTPResponseEncoder(configuration: .init()))
            try pipeline.addHandler(EdgeHandler.requestDecoder())
            let router = RouterAttachment(eventLoop: channel.eventLoop, logger: logger)
            try pipeline.addHandler(EdgeHandler(core: core, wire: wire, router: router, idleTimeout: idleTimeout))
            return EdgeConnection(channel: channel, router: router.connection)
        }
    }

    /// Serves the router's requests once the connection has any; returns when it closes. A
    /// connection still without them when the server is cancelled is closed by
    /// ``EdgeConnectionsCloser``.
    func handle(value: Value, logger: Logger) async {
        guard let connection = try? await value.router.get() else { return }
        await handleHTTP(asyncChannel: connection, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the gateway's edge in front of the router.
    static func edge(_ core: EdgeCore, idleTimeout: TimeAmount?) -> HTTPServerBuilder {
        .init { responder in EdgeChannel(responder: responder, core: core, idleTimeout: idleTimeout) }
    }
}
