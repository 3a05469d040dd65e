import NIOCore
import NIOHTTP1

/// How a gateway connection ends: graceful shutdown, a client that sends no more, errors, idle
/// time, the connection closing.
extension EdgeHandler {
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiesce(context: context, event: event)
        } else if !router.isAttached, let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            // The client sends no more, and no router's handlers are there to end the connection.
            quiesce(context: context, event: event)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Ends the connection gracefully: after a proxied exchange or a drained request in flight, a
    /// live stream at once; an idle connection at once, by the router's handlers when attached.
    private func quiesce(context: ChannelHandlerContext, event: Any) {
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

    /// A request the decoder could not parse is the router's to answer (400), as is any error
    /// once it is attached; otherwise the connection ends.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
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
        if router.isAttached || (error is HTTPParserError && router.attach(to: context)) {
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
}
