import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's side of one gateway connection, set up only when the connection first has
/// something for the router: a request the edge does not serve (a request that does not parse
/// the edge refuses itself). A connection the edge serves whole (status polls,
/// live streams, the waiting-room page, proxied routes) never carries the router's handlers and
/// async channel, about 5 KB a connection.
///
/// The connection's task (``EdgeChannel/handle(value:logger:)``) waits on ``connection``: the
/// router's async channel once attached, nil when the connection ends without one.
final class RouterAttachment {
    typealias Connection = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    private let promise: EventLoopPromise<Connection?>
    private let logger: Logger
    /// Whether the router's handlers are in the pipeline.
    private(set) var isAttached = false
    private var isSettled = false

    init(eventLoop: any EventLoop, logger: Logger) {
        self.promise = eventLoop.makePromise(of: Connection?.self)
        self.logger = logger
    }

    /// The router's async channel, once attached; nil when the connection ended without it.
    var connection: EventLoopFuture<Connection?> { promise.futureResult }

    /// Adds the router's handlers behind the edge (last in the pipeline) and hands the async
    /// channel to the connection's task; true once they are there. The pipeline then reads as
    /// ``EdgeChannel`` describes it.
    func attach(to context: ChannelHandlerContext) -> Bool {
        if isAttached { return true }
        guard !isSettled else { return false }
        isSettled = true
        do {
            let pipeline = context.pipeline.syncOperations
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            let connection = try Connection(wrappingChannelSynchronously: context.channel, configuration: .init(isOutboundHalfClosureEnabled: true))
            isAttached = true
            promise.succeed(connection)
            return true
        } catch {
            logger.error("could not set up the router for a connection", metadata: ["error": "\(error)"])
            promise.succeed(nil)
            return false
        }
    }

    /// The connection ended: a task still waiting for the router ends too.
    func detach() {
        guard !isSettled else { return }
        isSettled = true
        promise.succeed(nil)
    }
}

/// A gateway connection as its task gets it: the channel, and the router's side of it once
/// (if ever) a request needs the router.
struct EdgeConnection: ServerChildChannelValue {
    let channel: any Channel
    let router: EventLoopFuture<RouterAttachment.Connection?>
}
