import NIOCore
import NIOHTTP1

/// How a gateway connection ends: graceful shutdown, a client that sends no more, errors, idle
/// time, the connection closing.
extension EdgeHandler {
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            end(context: context, passingOn: event)
        } else if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            inputClosedPending = true
            endAfterLastRequest(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// The client sends no more: the connection ends once the requests it sent are answered,
    /// pipelined ones held back included. The router's handlers, which would end it at once, are
    /// told only when they serve the last request or the connection is idle.
    func endAfterLastRequest(context: ChannelHandlerContext) {
        guard inputClosedPending, held.isEmpty else { return }
        inputClosedPending = false
        end(context: context, passingOn: ChannelEvent.inputClosed)
    }

    /// Ends the connection gracefully: after a proxied exchange or a drained request in flight, a
    /// live stream at once, an idle connection at once; `event` goes on to the router's handlers
    /// when they serve the request, or are attached to an idle connection, and they end it.
    private func end(context: ChannelHandlerContext, passingOn event: Any) {
        switch state {
        case .proxying, .draining:
            quiescing = true
        case .streaming(let stream):
            quiescing = true
            stream.end()
        case .idle where !router.isAttached:
            context.close(promise: nil)
        case .idle, .passing:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// A request the decoder could not parse, between requests or in the body of a proxied request
    /// still being read, is refused with a problem (400, or 431 for a head over the limit) and the
    /// connection closes; once the router serves a request, errors are its own. Bytes that do not
    /// parse behind a proxied request read whole leave that exchange to finish: its answer is
    /// relayed, then the connection closes (the upstream may already have acted on the request).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parsing = error as? HTTPParserError {
            switch state {
            case .idle:
                return refuse(HTTPRequestHead(version: .http1_1, method: .GET, uri: ""), RequestHeadError(parsing: parsing), context: context)
            case .draining:
                return context.close(promise: nil)
            case .proxying(let exchange) where exchange.requestEnded:
                quiescing = true
                return
            case .proxying(let exchange):
                // A body that stops parsing half-way: no upstream has been called (it is called once
                // the request has ended), so the client hears why, and the connection closes.
                return exchange.fail(RequestHeadError(parsing: parsing), outcome: .refused, close: true)
            case .streaming, .passing:
                break
            }
        }
        if case .proxying(let exchange) = state {
            exchange.clientFailed()
            context.close(promise: nil)
            return
        }
        if case .streaming(let stream) = state {
            stream.cancel()
            context.close(promise: nil)
            return
        }
        if router.isAttached {
            context.fireErrorCaught(error)
        } else {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state { exchange.clientFailed() }
        if case .streaming(let stream) = state { stream.cancel() }
        idleCheck?.cancel()
        idleCheck = nil
        router.detach()
        context.fireChannelInactive()
    }

    func scheduleIdleCheck(context: ChannelHandlerContext) {
        guard let idleTimeout else { return }
        let deadline = max(lastActivity + idleTimeout, .now() + .milliseconds(100))
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.idleCheck = nil
            guard let context = self.context else { return }
            if case .idle = self.state, NIODeadline.now() - self.lastActivity >= idleTimeout {
                context.close(promise: nil)
            } else {
                if case .idle = self.state {} else { self.lastActivity = .now() }
                self.scheduleIdleCheck(context: context)
            }
        }
    }

    /// The request decoder of an edge connection. Removed, it hands on the bytes it holds.
    static func requestDecoder() -> ByteToMessageHandler<HTTPRequestDecoder> {
        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
    }

    /// The request that asked to switch protocols was answered in HTTP/1.1 (the edge switches to
    /// none), so the connection goes on in HTTP/1.1 (RFC 9110 §7.8) and must be parsed again: the
    /// decoder that stopped after it (NIO's never starts again, apple/swift-nio#2570) makes way
    /// for a fresh one, which gets the bytes the client sent meanwhile. Without it, the next
    /// request on the connection (`curl --http2` sends `Upgrade: h2c`, then reuses it) waits forever.
    func restartRequestDecoder(context: ChannelHandlerContext) {
        decoderStopped = false
        let pipeline = context.pipeline.syncOperations
        do {
            let stopped = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(Self.requestDecoder(), position: .after(stopped))
            pipeline.removeHandler(stopped, promise: nil)
        } catch {
            state = .draining
            context.close(promise: nil)
        }
    }
}
