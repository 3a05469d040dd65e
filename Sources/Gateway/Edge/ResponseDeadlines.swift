import NIOCore

/// The proxied exchanges of one event loop that wait on their upstream (its response head, then
/// each part of its body), each with its deadline (the route's timeout), checked by one
/// repeating task on the loop.
///
/// A timer scheduled when a request leaves and cancelled when its answer starts cost a heap
/// insertion under the loop's task lock and a linear search to cancel, per request; here a
/// request costs a dictionary insertion and removal, and a late upstream is found within
/// ``checkInterval`` of its deadline. The check runs only while some exchange waits.
/// Touched on `eventLoop` only.
final class ResponseDeadlines {
    static let checkInterval = TimeAmount.milliseconds(20)

    let eventLoop: any EventLoop
    private var waiting: [ObjectIdentifier: (exchange: EdgeExchange, deadline: NIODeadline)] = [:]
    private var check: RepeatedTask?

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// `exchange` waits on its upstream until `timeout` from now (set again, it waits anew); then it is told
    /// through ``EdgeExchange/upstreamTimedOut()``.
    func add(_ exchange: EdgeExchange, timeout: TimeAmount) {
        eventLoop.preconditionInEventLoop()
        waiting[ObjectIdentifier(exchange)] = (exchange, .now() + timeout)
        guard check == nil else { return }
        let deadlines = NIOLoopBound(self, eventLoop: eventLoop)
        check = eventLoop.scheduleRepeatedTask(initialDelay: Self.checkInterval, delay: Self.checkInterval) { task in
            deadlines.value.expire(task)
        }
    }

    /// `exchange` no longer waits (its upstream's answer ended, or the exchange ended otherwise).
    func remove(_ exchange: EdgeExchange) {
        waiting.removeValue(forKey: ObjectIdentifier(exchange))
    }

    private func expire(_ task: RepeatedTask) {
        guard !waiting.isEmpty else {
            task.cancel()
            check = nil
            return
        }
        let now = NIODeadline.now()
        let late = waiting.values.filter { $0.deadline <= now }
        for entry in late {
            waiting.removeValue(forKey: ObjectIdentifier(entry.exchange))
            entry.exchange.upstreamTimedOut()
        }
    }
}
