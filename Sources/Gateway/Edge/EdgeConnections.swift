import NIOCore
import ServiceLifecycle

/// The connections the edge serves without the router's handlers, kept per event loop, so that
/// they can all be closed when the gateway's server is cancelled (the shutdown's grace period is
/// over, or a service failed): their tasks wait for a router that never comes, and nothing else
/// would end them while their clients hold them. One registry and one cancellation handler for
/// all of them (``EdgeConnectionsCloser``) cost less than a handler each, which takes every
/// waiting task past its first allocator slab (about 1 KB a connection).
final class EdgeConnections: Sendable {
    /// One loop's connections, touched on that loop only.
    final class OnLoop: @unchecked Sendable {
        let eventLoop: any EventLoop
        var handlers: [ObjectIdentifier: EdgeHandler] = [:]

        init(eventLoop: any EventLoop) {
            self.eventLoop = eventLoop
        }
    }

    private let loops = PerEventLoop { OnLoop(eventLoop: $0) }

    /// Files `handler`'s connection; on its event loop.
    func add(_ handler: EdgeHandler, on eventLoop: any EventLoop) {
        loops.value(for: eventLoop).handlers[ObjectIdentifier(handler)] = handler
    }

    /// Takes `handler`'s connection out (the router took it on, or it closed); on its event loop.
    func remove(_ handler: EdgeHandler, on eventLoop: any EventLoop) {
        loops.value(for: eventLoop).handlers[ObjectIdentifier(handler)] = nil
    }

    /// Connections filed now on `eventLoop`; on that loop.
    func count(on eventLoop: any EventLoop) -> Int {
        loops.value(for: eventLoop).handlers.count
    }

    /// Closes every connection filed, each on its own event loop.
    func closeAll() {
        for loop in loops.all {
            loop.eventLoop.execute {
                for handler in loop.handlers.values { handler.context?.close(promise: nil) }
                loop.handlers.removeAll()
            }
        }
    }
}

/// Closes the edge's connections (``EdgeConnections``) when cancelled; returns on graceful
/// shutdown. Listed among the application's services, it is shut down after the server has
/// drained, and cancelled with it when the grace period is over.
struct EdgeConnectionsCloser: Service {
    let connections: EdgeConnections

    func run() async {
        await withTaskCancellationHandler {
            try? await gracefulShutdown()
        } onCancel: {
            connections.closeAll()
        }
    }
}
