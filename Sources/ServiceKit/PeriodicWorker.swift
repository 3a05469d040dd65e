import Logging
import ServiceLifecycle

/// How one pass of a periodic worker went.
public enum PeriodicPass: Sendable {
    /// Nothing more is waiting: the next pass comes after the worker's interval.
    case idle
    /// More may be waiting (a full batch): the next pass comes at once.
    case busy
}

/// The loop of every background service (sweepers, persisters, relays, recorders), so each
/// stops, waits and reports failures the same way.
public enum PeriodicWorker {
    /// Runs `pass` until the task is cancelled or a graceful shutdown begins. After an idle pass
    /// the worker waits `interval`, after a busy one it goes on at once, after a failure it waits
    /// `retryAfter` (the interval when nil). A failure is logged as a warning when passes start
    /// failing and once more when they succeed again, not on every pass. A graceful shutdown
    /// ends a wait at once but never interrupts a pass; a `CancellationError` from a pass ends
    /// the loop.
    public static func run(
        _ name: String, every interval: Duration, retryAfter: Duration? = nil, logger: Logger, _ pass: () async throws -> PeriodicPass
    ) async {
        var failing = false
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let pause: Duration
            do {
                pause = try await pass() == .busy ? .zero : interval
                if failing { logger.info("\(name) works again") }
                failing = false
            } catch is CancellationError {
                return
            } catch {
                if !failing { logger.warning("\(name) failed; retrying", metadata: ["error": "\(error)"]) }
                failing = true
                pause = retryAfter ?? interval
            }
            guard pause > .zero else { continue }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
    }

    /// Runs `pass` every `interval` (see ``run(_:every:retryAfter:logger:_:)``); every pass is idle.
    public static func run(_ name: String, every interval: Duration, retryAfter: Duration? = nil, logger: Logger, _ pass: () async throws -> Void) async {
        await run(name, every: interval, retryAfter: retryAfter, logger: logger) { () async throws -> PeriodicPass in
            try await pass()
            return .idle
        }
    }
}
