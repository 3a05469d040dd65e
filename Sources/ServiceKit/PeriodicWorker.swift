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
    /// How long a pass under way may go on once a graceful shutdown has begun.
    public static let shutdownGrace: Duration = .seconds(2)

    /// Runs `pass` until the task is cancelled or a graceful shutdown begins. After an idle pass
    /// the worker waits `interval`, after a busy one it goes on at once, after a failure it waits
    /// `retryAfter` (the interval when nil). A failure is logged as a warning when passes start
    /// failing and once more when they succeed again, not on every pass. A graceful shutdown
    /// ends a wait at once; a pass under way is given `shutdownGrace` to finish and is then
    /// cancelled (one waiting for a store that is down would otherwise hold the whole shutdown);
    /// a `CancellationError` from a pass ends the loop.
    public static func run(
        _ name: String, every interval: Duration, retryAfter: Duration? = nil, shutdownGrace: Duration = Self.shutdownGrace, logger: Logger,
        _ pass: @escaping @Sendable () async throws -> PeriodicPass
    ) async {
        var failing = false
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let pause: Duration
            do {
                pause = try await finishing(within: shutdownGrace, pass) == .busy ? .zero : interval
                if failing { logger.info("\(name) works again") }
                failing = false
            } catch where error is CancellationError || Task.isCancelled {
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

    /// Runs `pass` every `interval` (see ``run(_:every:retryAfter:shutdownGrace:logger:_:)``); every pass is idle.
    public static func run(
        _ name: String, every interval: Duration, retryAfter: Duration? = nil, shutdownGrace: Duration = Self.shutdownGrace, logger: Logger,
        _ pass: @escaping @Sendable () async throws -> Void
    ) async {
        await run(name, every: interval, retryAfter: retryAfter, shutdownGrace: shutdownGrace, logger: logger) { () async throws -> PeriodicPass in
            try await pass()
            return .idle
        }
    }

    /// Runs `pass` to its end, unless a graceful shutdown begins and `grace` then passes first,
    /// or the caller is cancelled: the pass is cancelled and this throws `CancellationError` at
    /// once, without waiting for a pass that ignores its cancellation to end.
    static func finishing(within grace: Duration, _ pass: @escaping @Sendable () async throws -> PeriodicPass) async throws -> PeriodicPass {
        let (outcome, running) = PeriodicPassOutcome.start(pass)
        defer { running.cancel() }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await gracefulShutdown()
                try await Task.sleep(for: grace)
                outcome.settle(.failure(CancellationError()))
            }
            defer { group.cancelAll() }
            return try await outcome.value()
        }
    }
}
