import Synchronization

/// The outcome of one pass of a ``PeriodicWorker``, run as a task of its own so the worker can
/// stop waiting for it: a pass stuck in a library call that ignores cancellation (a connection
/// pool retrying a store that is down) must not hold a shutdown that has given up on it.
final class PeriodicPassOutcome: Sendable {
    private enum State {
        case pending
        case awaited(CheckedContinuation<PeriodicPass, any Error>)
        case settled(Result<PeriodicPass, any Error>)
        case delivered
    }

    private let state = Mutex<State>(.pending)

    /// Starts `pass` as an unstructured task (task-local values, the graceful-shutdown manager
    /// among them, are inherited) that settles this outcome when it ends; returns that task.
    static func start(_ pass: @escaping @Sendable () async throws -> PeriodicPass) -> (PeriodicPassOutcome, Task<Void, Never>) {
        let outcome = PeriodicPassOutcome()
        let task = Task {
            do {
                outcome.settle(.success(try await pass()))
            } catch {
                outcome.settle(.failure(error))
            }
        }
        return (outcome, task)
    }

    /// Settles the outcome; the first settlement wins, later ones are ignored.
    func settle(_ result: Result<PeriodicPass, any Error>) {
        let waiting: CheckedContinuation<PeriodicPass, any Error>? = state.withLock { state in
            switch state {
            case .pending:
                state = .settled(result)
                return nil
            case .awaited(let continuation):
                state = .delivered
                return continuation
            case .settled, .delivered:
                return nil
            }
        }
        waiting?.resume(with: result)
    }

    /// The pass's result, or `CancellationError` as soon as the caller is cancelled, whether or
    /// not the pass has ended by then.
    func value() async throws -> PeriodicPass {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let settled: Result<PeriodicPass, any Error>? = state.withLock { state in
                    switch state {
                    case .pending:
                        state = .awaited(continuation)
                        return nil
                    case .settled(let result):
                        state = .delivered
                        return result
                    case .awaited, .delivered:
                        return .failure(CancellationError())
                    }
                }
                if let settled { continuation.resume(with: settled) }
            }
        } onCancel: {
            settle(.failure(CancellationError()))
        }
    }
}
