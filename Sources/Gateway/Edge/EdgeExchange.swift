import HTTPTypes
import NIOCore
import NIOHTTP1

/// One proxied request, from its head to the end of its response, on its connection's event
/// loop: the route's policy chain, then an upstream connection from the loop's pool, with the
/// bodies streamed both ways under backpressure.
///
/// Policies read the request through it and leave what they learnt (the identity, response
/// fields) and what must be settled at the end (``onSettle(_:)``); settlements run in reverse
/// order once the outcome is known, and their Redis writes finish before the client is answered.
final class EdgeExchange {
    enum Phase { case policies, connecting, forwarding, responding, finished }

    let handler: EdgeHandler
    let context: ChannelHandlerContext
    let route: EdgeRoute
    let head: HTTPRequestHead
    let requestID: String
    let clientAddress: String
    let peerIsTrusted: Bool
    let started = ContinuousClock.now
    /// The verified user, once the access-token policy found one.
    var identity: Identity?
    /// Fields the policies add to the upstream's response (`RateLimit`, …).
    var responseFields = EdgeResponseFields()
    /// Whether the response is collected whole before the client gets it (to store it).
    var collectsResponse = false

    var phase = Phase.policies
    var settlements: [(EdgeOutcome) -> EventLoopFuture<Void>?] = []
    var bodyParts: [ByteBuffer] = []
    var bodyBytes = 0
    var requestEnded = false
    /// The next policy of the chain to start.
    var nextPolicy = 0
    /// Verdicts of policies started before an earlier verdict came, in chain order; the first is watched.
    var verdictsAhead = PendingVerdicts()
    /// Whether the chain waits for the request's end to start the next policy.
    var waitsForBody = false
    /// Whether ``runPolicies()`` is on the stack (a verdict that comes at once must not re-enter it).
    var startingPolicies = false
    /// How the exchange was settled, for a settlement registered after that (a claim whose reply
    /// came after an earlier policy refused).
    var settledOutcome: EdgeOutcome?
    var holdsClientReads = false
    var targets: [UpstreamTarget]?
    /// The borrowed upstream connection; letting go of it gives back the slot it held.
    var connection: UpstreamConnection? {
        didSet { if connection == nil, oldValue != nil { giveBackSlot() } }
    }
    /// The upstream slot held from the connect until the connection is let go (a route with
    /// `max_connections`), and whether an upstream of the route had none free for this request.
    var heldSlots: Slots?
    var foundUpstreamBusy = false
    var requestSent = false
    var retried = false
    var closeAfterResponse = false
    /// Body parts of the upstream's answer that came before the client's head could be written.
    var heldResponseBody: [ByteBuffer] = []
    var upstreamEnded = false
    /// Whether it is among its loop's ``ResponseDeadlines``: from the request's sending until the
    /// upstream's answer ends.
    var awaitsUpstream = false
    /// Body parts the upstream sent, and how many it had sent when its deadline was last set:
    /// an answer that has not moved for the route's timeout is stalled.
    var upstreamReads = 0
    var upstreamReadsAtDeadline = 0
    var responseHead: HTTPResponseHead?
    var collected: ByteBuffer?
    /// How the client's answer is framed, once its head is written.
    var clientFraming: ClientResponseHead.Framing?
    var clientHeadWritten: Bool { clientFraming != nil }
    var trace: EdgeTrace?

    init(handler: EdgeHandler, context: ChannelHandlerContext, route: EdgeRoute, head: HTTPRequestHead) {
        self.handler = handler
        self.context = context
        self.route = route
        self.head = head
        self.requestID = ProxyHeaders.requestID(from: head.headers.first(name: "x-request-id"))
        (self.clientAddress, self.peerIsTrusted) = handler.client(of: head)
    }

    /// The request path, without the query.
    var path: Substring { head.uri.pathWithoutQuery }

    var eventLoop: any EventLoop { context.eventLoop }

    /// The whole request body (policies that read it run once it has arrived).
    var body: ByteBuffer {
        if bodyParts.count == 1 { return bodyParts[0] }
        var merged = context.channel.allocator.buffer(capacity: bodyBytes)
        for part in bodyParts { merged.writeImmutableBuffer(part) }
        bodyParts = [merged]
        return merged
    }

    /// Registers what to do once the outcome is known (undo a claim, make a spend final).
    func onSettle(_ settle: @escaping (EdgeOutcome) -> EventLoopFuture<Void>?) {
        if let settledOutcome { _ = settle(settledOutcome) } else { settlements.append(settle) }
    }

    func start() {
        if !route.isLocal { trace = handler.core.tracing?.start(self) }
        runPolicies()
    }

    // MARK: The request, from the client

    func receivedBody(_ buffer: ByteBuffer) {
        bodyBytes += buffer.readableBytes
        if bodyBytes > route.configuration.maxBodyBytes {
            let called = phase == .forwarding || phase == .responding
            fail(ProxyError.bodyTooLarge(limit: route.configuration.maxBodyBytes), outcome: called ? .failed : .refused, close: true)
            return
        }
        switch phase {
        case .policies, .connecting:
            bodyParts.append(buffer)
            if bodyBytes > 1 << 20, !waitsForBody { holdsClientReads = true }
        case .forwarding, .responding, .finished:
            // An upstream is called once the request has ended: nothing more comes.
            break
        }
    }

    func receivedEnd() {
        requestEnded = true
        switch phase {
        case .policies:
            if waitsForBody { runPolicies() }
        case .connecting, .forwarding, .responding, .finished:
            break
        }
    }

    func upstreamBecameWritable() {
        guard holdsClientReads, phase == .forwarding || phase == .responding else { return }
        holdsClientReads = false
        handler.resumeReading()
    }

    func clientBecameWritable() {
        connection?.handler.resumeReads()
    }

    /// The client went away or broke: let go of everything.
    func clientFailed() {
        guard phase != .finished else { return }
        let called = phase == .forwarding || phase == .responding
        phase = .finished
        stopAwaitingUpstream()
        connection?.close()
        connection = nil
        _ = settle(called ? .failed : .refused)
        trace?.end(status: nil)
    }

    /// The gateway's own answer to a local route is about to leave: the policies' fields join
    /// its head, and their settlements learn its status.
    func routerAnswered(_ head: HTTPResponseHead) -> HTTPResponseHead {
        var head = head
        responseFields.add(to: &head.headers)
        _ = settle(.answered(status: head.status, headers: head.headers, body: nil))
        return head
    }

    // MARK: Answers

    /// Fails the exchange: a problem response when nothing was sent yet, otherwise the client
    /// connection is closed (a response cannot change its mind half-way).
    func fail(_ error: any Error, outcome: EdgeOutcome, close: Bool = false) {
        guard phase != .finished else { return }
        if let error = error as? ProxyError { GatewayMetrics.proxyError(route: route.name, error) }
        stopAwaitingUpstream()
        connection?.close()
        connection = nil
        if clientHeadWritten {
            // The client learns the upstream's status and the body so far, then sees it cut off.
            handler.wire.flush()
            clientFailed()
            context.close(promise: nil)
            return
        }
        respondWhole(EdgeResponse.problem(for: error, path: path), outcome: outcome, close: close)
    }

    /// Settles with `outcome`, then writes a whole response the gateway made (closing the
    /// connection when the client still holds back a body it was never invited to send).
    func respondWhole(_ response: EdgeResponse, outcome: EdgeOutcome, close: Bool) {
        phase = .responding
        let close = close || (handler.continueWithheld && !requestEnded)
        afterSettling(outcome) {
            var head = HTTPResponseHead(version: self.head.version, status: response.status, headers: response.headers)
            head.headers.replaceOrAdd(name: "content-length", value: String(response.body.readableBytes))
            self.writeClient(head: head, close: close, body: response.body)
            self.finish(status: response.status.code, close: close)
        }
    }

    func afterSettling(_ outcome: EdgeOutcome, _ then: @escaping () -> Void) {
        let pending = settle(outcome)
        if pending.isEmpty { return then() }
        whenSettled(pending, then)
    }

    /// Runs `then` on the loop once every settlement in `pending` is done, unless the exchange ended meanwhile.
    func whenSettled(_ pending: [EventLoopFuture<Void>], _ then: @escaping () -> Void) {
        EventLoopFuture.andAllComplete(pending, on: eventLoop).assumeIsolated().whenComplete { _ in
            guard self.phase != .finished else { return }
            then()
        }
    }

    func settle(_ outcome: EdgeOutcome) -> [EventLoopFuture<Void>] {
        settledOutcome = outcome
        guard !settlements.isEmpty else { return [] }
        let settlements = self.settlements
        self.settlements = []
        return settlements.reversed().compactMap { $0(outcome) }
    }

    /// Writes the client's head (with `body` when the whole answer is in hand), unflushed.
    func writeClient(head: HTTPResponseHead, close: Bool, body: ByteBuffer? = nil) {
        var wire = ClientResponseHead(
            answering: self.head, status: head.status, fields: head.headers, requestID: requestID, close: close,
            allocator: context.channel.allocator, bodyBytes: body?.readableBytes ?? 0
        )
        if let body { wire.append(body: body) }
        // After a whole body nothing more goes to the client's body, not even a last chunk.
        clientFraming = body == nil ? wire.framing : .bodyless
        handler.wire.write(wire.buffer, flush: false)
    }

    /// Writes part of the client's body after its head, framed as the head said, unflushed.
    func writeClientBody(_ part: ByteBuffer) {
        switch clientFraming {
        case .plain:
            handler.wire.write(part, flush: false)
        case .chunked where part.readableBytes > 0:
            var size = context.channel.allocator.buffer(capacity: 18)
            size.writeString(String(part.readableBytes, radix: 16))
            size.writeStaticString("\r\n")
            handler.wire.write(size, flush: false)
            handler.wire.write(part, flush: false)
            handler.wire.write(Self.lineEnd, flush: false)
        case .chunked, .bodyless, nil:
            return
        }
    }

    private static let lastChunk = ByteBuffer(string: "0\r\n\r\n")
    private static let lineEnd = ByteBuffer(string: "\r\n")

    func finish(status: UInt, close: Bool) {
        phase = .finished
        stopAwaitingUpstream()
        if clientFraming == .chunked {
            handler.wire.write(Self.lastChunk, flush: true)
        } else {
            handler.wire.flush()
        }
        let elapsed = ContinuousClock.now - started
        route.record(status: Int(status), duration: elapsed)
        handler.core.traffic.record(HTTPResponse.Status(code: Int(status)), route: route.name, duration: elapsed)
        handler.core.accessLog?.record(
            method: head.method.rawValue, target: head.uri, route: route.name, status: Int(status), duration: elapsed,
            client: clientAddress, requestID: requestID, user: identity?.userID
        )
        trace?.end(status: Int(status))
        handler.served(requestEnded: requestEnded, close: close || !head.isKeepAlive)
    }
}
