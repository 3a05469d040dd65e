import DequeModule
import HTTPTypes
import NIOCore
import NIOHTTP1
import ServiceKit

/// The front of every gateway connection. A request whose path belongs to a proxied route is
/// served here, on this connection's event loop, by an ``EdgeExchange``; any other request is
/// passed on to Hummingbird, whose handlers join the pipeline for the first such request
/// (``RouterAttachment``). One request is served at a time: parts of a pipelined next request
/// wait until the current response has ended, so answers keep their order whoever writes them.
///
/// It also serves waiting visitors' status polls from the room snapshot and their live streams
/// (``EdgeQueueStream``), closes connections idle (or trickling a request head) for
/// `idleTimeout`, and on graceful shutdown lets a proxied exchange in flight finish before
/// closing (a live stream ends at once: its client reconnects, or polls).
final class EdgeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        case idle
        /// Hummingbird serves the request; it ends when both its request and response have.
        case passing(requestEnded: Bool, responseEnded: Bool)
        /// The edge serves the request.
        case proxying(EdgeExchange)
        /// The edge serves a waiting visitor's live stream.
        case streaming(EdgeQueueStream)
        /// The edge has answered; the rest of the request's body is read and dropped.
        case draining
    }

    let core: EdgeCore
    /// Where the edge's own answers are written, as bytes.
    let wire: SocketWire
    /// Hummingbird's side of the connection, attached for the first request the edge passes on.
    let router: RouterAttachment
    let idleTimeout: TimeAmount?
    var state = State.idle
    /// Parts of pipelined requests that wait for the request under way to end.
    private(set) var held: Deque<HTTPServerRequestPart> = []
    private var readHeld = false
    /// The exchange whose local route Hummingbird is answering, until its response head leaves.
    var localExchange: EdgeExchange?
    /// The method of the request Hummingbird is answering: its answer to a `HEAD` or `CONNECT`
    /// carries no body, which this handler drops, as an encoder paired with the decoder would.
    var routerMethod = HTTPMethod.GET
    /// Whether parts went on to Hummingbird since the last read-complete it saw.
    var forwardedUnflushed = false
    /// Whether the connection closes once the request under way is over (graceful shutdown, or
    /// the client sent its last byte).
    var quiescing = false
    /// Whether the client closed its side and the edge has not yet acted on it (pipelined requests
    /// come first).
    var inputClosedPending = false
    /// The request under way asked for `100 Continue` and has not had it, so its body will not
    /// come: answered early (refused at once, or by the edge itself), its connection closes.
    var continueWithheld = false
    /// The request under way asked to switch protocols, so the request decoder stopped after it
    /// (``HTTPRequestHead/stopsRequestParsing``): it is replaced once the request is over.
    var decoderStopped = false
    var lastActivity = NIODeadline.now()
    var idleCheck: Scheduled<Void>?
    private(set) var context: ChannelHandlerContext?
    private(set) var pool: UpstreamPool?
    /// The TCP peer's address, read once per connection.
    private lazy var peerAddress: String = context?.channel.remoteAddress?.ipAddress ?? "unknown"
    /// Whether the peer is a trusted proxy under the route table it was worked out for: worked
    /// out again when a reload brings another table (a load balancer's connections last for hours).
    private var peerTrust: (table: EdgeCore.Table, trusted: Bool)?

    init(core: EdgeCore, wire: SocketWire, router: RouterAttachment, idleTimeout: TimeAmount?) {
        self.core = core
        self.wire = wire
        self.router = router
        self.idleTimeout = idleTimeout
    }

    /// The client's address for `request` (the peer's, or the one a trusted proxy forwarded) and
    /// whether the peer is a trusted proxy, under the route table in force.
    func client(of request: HTTPRequestHead) -> (address: String, peerIsTrusted: Bool) {
        let table = core.currentTable
        let trusted: Bool
        if let peerTrust, peerTrust.table === table {
            trusted = peerTrust.trusted
        } else {
            trusted = table.addresses.isTrusted(peerAddress)
            peerTrust = (table, trusted)
        }
        guard trusted else { return (peerAddress, false) }
        return (table.addresses.clientAddress(peer: peerAddress, peerIsTrusted: true, forwardedFor: request.headers["x-forwarded-for"]), true)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.pool = core.pools.value(for: context.eventLoop)
        core.unrouted.add(self, on: context.eventLoop)
        scheduleIdleCheck(context: context)
    }

    /// Called as the connection's pipeline is torn down: an exchange or stream still held
    /// (its client went) is let go, as it holds this handler.
    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        self.context = nil
        if case .streaming(let stream) = state { stream.cancel() }
        state = .idle
        held.removeAll()
        router.detach()
        core.unrouted.remove(self, on: context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        held.append(unwrapInboundIn(data))
        dispatchHeld(context: context)
    }

    /// Serves the parts that arrived, in order: the current request's parts at once, the head of
    /// the next request only once the current one is over.
    private func dispatchHeld(context: ChannelHandlerContext) {
        while let part = held.first {
            if case .head = part, !isIdle { return }
            held.removeFirst()
            dispatch(part, context: context)
        }
    }

    private var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    private func dispatch(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let received)):
            lastActivity = .now()
            let head: HTTPRequestHead
            do {
                head = try received.checkedForEdge()
            } catch {
                refuse(received, error, context: context)
                return
            }
            continueWithheld = head.expectsContinue
            decoderStopped = head.stopsRequestParsing
            if let route = core.route(for: head) {
                if !route.isLocal, core.via.isLoop(head.headers) { return refuseLoop(head, route: route, context: context) }
                startExchange(route, head: head, context: context)
            } else if let response = core.statusPolls.answer(head) {
                answer(head, with: response, route: EdgeStatusPolls.routeName, context: context)
            } else if let request = core.queueStreams.request(head) {
                let stream = EdgeQueueStream(handler: self, context: context, head: head, request: request)
                state = .streaming(stream)
                stream.start()
            } else if let response = core.health.answer(head) {
                answer(head, with: response, route: EdgeHealth.routeName, context: context)
            } else if let route = core.ownRoute(for: head) {
                startExchange(route, head: head, context: context)
            } else if let (response, route) = core.wrongMethodAnswer(for: head) {
                answer(head, with: response, route: route, context: context)
            } else if let response = core.serverWideAnswer(for: head) {
                answer(head, with: response, route: EdgeCore.serverWideRoute, context: context)
            } else if attachRouter(context: context) {
                state = .passing(requestEnded: false, responseEnded: false)
                routerMethod = head.method
                invitesBody(context: context)
                forward(.head(head), context: context)
            } else {
                state = .draining
                context.close(promise: nil)
            }
        case (.idle, _):
            break
        case (.passing, .head), (.proxying, .head), (.streaming, .head), (.draining, .head):
            preconditionFailure("a request head is dispatched only between requests")
        case (.passing(_, let responseEnded), .end):
            forward(part, context: context)
            state = .passing(requestEnded: true, responseEnded: responseEnded)
            if responseEnded { requestDone(context: context) }
        case (.passing, .body):
            forward(part, context: context)
        case (.proxying(let exchange), .body(let buffer)):
            exchange.receivedBody(buffer)
        case (.proxying(let exchange), .end):
            exchange.receivedEnd()
        case (.streaming, .body), (.draining, .body):
            break
        case (.streaming(let stream), .end):
            stream.requestEnded = true
        case (.draining, .end):
            requestDone(context: context)
        }
    }

    private func startExchange(_ route: EdgeRoute, head: HTTPRequestHead, context: ChannelHandlerContext) {
        let exchange = EdgeExchange(handler: self, context: context, route: route, head: head)
        state = .proxying(exchange)
        exchange.start()
        if case .proxying = state { invitesBody(context: context) }
    }

    /// Sends `100 Continue` when the request under way asked for it: its body is going to be read.
    func invitesBody(context: ChannelHandlerContext) {
        guard continueWithheld else { return }
        continueWithheld = false
        wire.writeContinue(allocator: context.channel.allocator)
    }

    func forward(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        forwardedUnflushed = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// Passed on only after parts went on to Hummingbird: a read the edge served whole leaves
    /// nothing for the handlers behind it to deliver.
    func channelReadComplete(context: ChannelHandlerContext) {
        guard forwardedUnflushed else { return }
        forwardedUnflushed = false
        context.fireChannelReadComplete()
    }

    /// Called by the exchange or live stream the edge serves once its response has ended.
    /// `requestEnded`: the whole request was read.
    func served(requestEnded: Bool, close: Bool) {
        guard let context else { return }
        switch state {
        case .proxying, .streaming: break
        case .idle, .passing, .draining: return
        }
        if close || quiescing || (continueWithheld && !requestEnded) {
            state = .draining
            context.close(promise: nil)
        } else if requestEnded {
            requestDone(context: context)
        } else {
            state = .draining
        }
    }

    /// The current request is over: serve what was held back, then read on.
    func requestDone(context: ChannelHandlerContext) {
        lastActivity = .now()
        if quiescing {
            // Left draining: no request held behind this one starts on the closing connection.
            state = .draining
            context.close(promise: nil)
            return
        }
        state = .idle
        if decoderStopped { restartRequestDecoder(context: context) }
        dispatchHeld(context: context)
        endAfterLastRequest(context: context)
        if forwardedUnflushed {
            // Parts handed on outside a read: Hummingbird's async channel delivers on read-complete.
            forwardedUnflushed = false
            context.fireChannelReadComplete()
        }
        resumeReading()
    }

    /// Reads again after ``holdReads`` or a held-back request.
    func resumeReading() {
        guard let context, readHeld, held.isEmpty else { return }
        if case .proxying(let exchange) = state, exchange.holdsClientReads { return }
        readHeld = false
        context.read()
    }

    func read(context: ChannelHandlerContext) {
        if !held.isEmpty, !isIdle {
            readHeld = true
        } else if case .proxying(let exchange) = state, exchange.holdsClientReads {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state, context.channel.isWritable {
            exchange.clientBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }
}
