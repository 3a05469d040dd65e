import NIOCore
import NIOHTTP1

/// The router's side of an edge connection: Hummingbird's handlers, attached behind the edge for
/// the first request it passes on, get that request's parts, and their answer goes out through
/// the edge (a local route's exchange sees its head; `HEAD` and `CONNECT` answers lose their body).
extension EdgeHandler {
    /// Sets up the router's side of the connection (``RouterAttachment``), which then answers for
    /// the connection when the server is cancelled; false when it cannot be.
    func attachRouter(context: ChannelHandlerContext) -> Bool {
        guard router.attach(to: context) else { return false }
        core.unrouted.remove(self, on: context.eventLoop)
        return true
    }

    /// A local route's policies passed: Hummingbird serves the request, starting with the parts
    /// the exchange held while they ran.
    func passToRouter(head: HTTPRequestHead, body: [ByteBuffer], requestEnded: Bool, exchange: EdgeExchange) {
        guard let context, case .proxying = state else { return }
        guard attachRouter(context: context) else {
            exchange.clientFailed()
            state = .draining
            context.close(promise: nil)
            return
        }
        state = .passing(requestEnded: requestEnded, responseEnded: false)
        localExchange = exchange
        routerMethod = head.method
        invitesBody(context: context)
        forward(.head(head), context: context)
        for part in body { forward(.body(part), context: context) }
        if requestEnded { forward(.end(nil), context: context) }
        forwardedUnflushed = false
        context.fireChannelReadComplete()
        resumeReading()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        switch part {
        case .head(var head):
            if let exchange = localExchange {
                localExchange = nil
                head = exchange.routerAnswered(head)
            }
            if routerMethod == .CONNECT {
                head.headers.remove(name: "transfer-encoding")
                head.headers.replaceOrAdd(name: "content-length", value: "0")
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body where routerAnswerIsBodiless, .end where routerAnswerIsBodiless:
            promise?.succeed()
        default:
            context.write(data, promise: promise)
        }
        if case .end = part, case .passing(let requestEnded, _) = state {
            state = .passing(requestEnded: requestEnded, responseEnded: true)
            if requestEnded { requestDone(context: context) }
        }
    }

    private var routerAnswerIsBodiless: Bool { routerMethod == .HEAD || routerMethod == .CONNECT }
}
