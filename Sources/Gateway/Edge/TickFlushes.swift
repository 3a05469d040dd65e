import NIOCore

/// The upstream requests written during one tick of an event loop, flushed together once the
/// loop has handled the tick's events (the task runs after them). The requests of one tick then
/// reach the upstreams in one burst, and an upstream that reads in a loop (nginx, a NIO service)
/// wakes once for all of them instead of once for each. Touched on `eventLoop` only.
final class TickFlushes {
    private let eventLoop: any EventLoop
    private var waiting: [UpstreamConnection] = []
    private var flushing: [UpstreamConnection] = []

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Flushes `connection` at the end of this tick.
    func flushAfterTick(_ connection: UpstreamConnection) {
        waiting.append(connection)
        guard waiting.count == 1 else { return }
        eventLoop.assumeIsolated().execute { self.flushWaiting() }
    }

    private func flushWaiting() {
        swap(&waiting, &flushing)
        for connection in flushing { connection.flush() }
        flushing.removeAll(keepingCapacity: true)
    }
}
