import NIOCore

/// How a ``FastRouteHandler``'s connection ends: after `idleTimeout` without a request in
/// progress (or with a request that stopped arriving), as Hummingbird's connection-state handler
/// would end it, and on graceful shutdown once the answer in progress is written.
extension FastRouteHandler {
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armIdleCheck(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        lastActive = .now()
        armIdleCheck(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    /// On graceful shutdown an idle connection closes at once; one with a request in progress
    /// closes after its answer. A client that sends no more gets the answers to what it sent
    /// before the router's side hears of it (which ends the connection). A request the router
    /// serves has Hummingbird's connection-state handler told too, as without this handler.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            switch state {
            case .idle:
                held.removeAll()
                context.close(promise: nil)
            case .passing:
                context.fireUserInboundEventTriggered(event)
            case .collecting, .serving:
                break
            }
        } else if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            inputClosedPending = true
            passInputClosedWhenAnswered(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Tells the router's side that the client sends no more, once every request it sent has
    /// been dispatched and no fast route is still answering one.
    func passInputClosedWhenAnswered(context: ChannelHandlerContext) {
        guard inputClosedPending, held.isEmpty else { return }
        switch state {
        case .collecting, .serving: return
        case .idle, .passing: break
        }
        inputClosedPending = false
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    /// An error behind a fast request in progress (bytes after it that do not parse) ends the
    /// connection once that answer is written, so the booking it made is not left unanswered;
    /// any other error goes on to the router's side, which ends the connection.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard case .serving = state else {
            context.fireErrorCaught(error)
            return
        }
        quiescing = true
        held.removeAll()
    }

    /// An answer ended: the idle time counts from now.
    func answerEnded(context: ChannelHandlerContext) {
        lastActive = .now()
        armIdleCheck(context: context)
    }

    /// Whether a request has arrived whole and its answer is still being written: the time that
    /// takes (a long stream from the router) is never cut.
    private var isAnswering: Bool {
        switch state {
        case .serving, .passing(requestEnded: true, responseEnded: false): true
        case .idle, .collecting, .passing: false
        }
    }

    /// Checks the connection `idleTimeout` after it was last active (one check scheduled at a
    /// time; a check that finds it active since schedules the next).
    func armIdleCheck(context: ChannelHandlerContext) {
        guard idleCheck == nil, context.channel.isActive else { return }
        let loop = context.eventLoop.assumeIsolatedUnsafeUnchecked()
        idleCheck = loop.scheduleTask(deadline: lastActive + idleTimeout) {
            self.idleCheck = nil
            guard context.channel.isActive, !self.isAnswering else { return }
            if NIODeadline.now() >= self.lastActive + self.idleTimeout {
                context.close(promise: nil)
            } else {
                self.armIdleCheck(context: context)
            }
        }
    }
}
