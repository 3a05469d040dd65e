import Dispatch
import Logging
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// A bound on stopping: once the process is asked to stop (SIGTERM or SIGINT), it ends `limit`
/// later at the latest, whatever still runs.
///
/// Graceful shutdown and cancellation have bounds of their own (`ServiceGroupConfiguration`), but
/// those are timers on the event loops, which also run every task; a deadlock in a dependency's
/// cancellation path can freeze both loops for good. One was seen here: Hummingbird's date cache
/// cancelled while its `merge` (swift-async-algorithms 1.1.4, apple/swift-async-algorithms#430)
/// held its lock across a suspension, and a gateway asked to stop never did. The countdown runs on
/// a Dispatch queue, off the loops, so it still ends such a process.
public struct ShutdownDeadline: Sendable {
    /// How long after the first stop signal the process ends at the latest.
    public var limit: Duration
    let logger: Logger
    let expire: @Sendable () -> Void

    /// A deadline that, once armed, logs and ends the process with status 1 after `limit`.
    public init(limit: Duration, logger: Logger) {
        self.init(limit: limit, logger: logger) {
            #if canImport(Glibc)
            _exit(1)
            #endif
        }
    }

    /// A deadline that, once armed, logs and calls `expire` after `limit` (tests).
    init(limit: Duration, logger: Logger, expire: @escaping @Sendable () -> Void) {
        self.limit = limit
        self.logger = logger
        self.expire = expire
    }

    /// Waits for the first of `signals`, then arms the deadline; returns then, or when the task
    /// is cancelled (the process stopped in time, or was never asked to).
    public func watch(_ signals: UnixSignalsSequence) async {
        for await signal in signals {
            logger.info("stopping; the process ends in \(limit) at the latest", metadata: ["signal": "\(signal)"])
            arm()
            return
        }
    }

    /// Starts the countdown now.
    public func arm() {
        let logger = logger, limit = limit, expire = expire
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(limit / .milliseconds(1)))) {
            logger.critical("still running \(limit) after being asked to stop: ending the process")
            expire()
        }
    }
}
