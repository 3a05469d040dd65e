import NIOCore

/// The rate-limit checks of one event loop's tick, gathered by subject: the requests of a tick
/// that share all their keys (a route-wide rule, a busy user) are charged by one script call at
/// the end of the tick, which admits as many of them, in order, as one call per request would
/// have (``RateLimiter``'s `rate_limit.lua` takes a count). All state is touched on `eventLoop`
/// only (the class is shared as Sendable for that reason).
final class RateLimitCharges: @unchecked Sendable {
    /// The checks waiting for the end of the tick with the same keys, oldest first.
    final class Batch {
        let rules: [RateLimitRule]
        let keys: [String]
        var decisions: [EventLoopPromise<RateLimitDecision>] = []

        init(rules: [RateLimitRule], keys: [String]) {
            self.rules = rules
            self.keys = keys
        }
    }

    private let eventLoop: any EventLoop
    private var batches: [String: Batch] = [:]
    private var order: [Batch] = []
    private var sending: [Batch] = []

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Adds a request to its subjects' batch; `sender` gets each batch once, at the end of the tick
    /// (a reference, so that a request allocates no closure for it).
    func charge(
        rules: [RateLimitRule], keys: [String], sender: any RateLimitBatchSender
    ) -> EventLoopFuture<RateLimitDecision> {
        let decision = eventLoop.makePromise(of: RateLimitDecision.self)
        let subjects = RateLimiter.subject(of: keys)
        let batch: Batch
        if let waiting = batches[subjects] {
            batch = waiting
        } else {
            batch = Batch(rules: rules, keys: keys)
            batches[subjects] = batch
            order.append(batch)
            if order.count == 1 {
                eventLoop.assumeIsolated().execute { self.sendAll(sender) }
            }
        }
        batch.decisions.append(decision)
        return decision.futureResult
    }

    private func sendAll(_ sender: any RateLimitBatchSender) {
        swap(&order, &sending)
        batches.removeAll(keepingCapacity: true)
        for batch in sending { sender.send(batch, on: eventLoop) }
        sending.removeAll(keepingCapacity: true)
    }
}

/// What charges a tick's batch in Redis: the ``RateLimiter``.
protocol RateLimitBatchSender: AnyObject {
    /// Charges `batch` and completes each of its decisions, on `eventLoop`.
    func send(_ batch: RateLimitCharges.Batch, on eventLoop: any EventLoop)
}
