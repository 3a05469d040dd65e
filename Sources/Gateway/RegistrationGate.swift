import DequeModule
import Synchronization

/// Bounds the bcrypt work of registrations, so that a flood of them cannot take the thread pool
/// that logins need: at most `concurrent` registrations hash at once and at most `waiting` more
/// wait their turn; any beyond are refused at once (503 with `Retry-After`).
final class RegistrationGate: Sendable {
    private struct State {
        var running = 0
        var waiters = Deque<CheckedContinuation<Void, Never>>()
    }

    let concurrent: Int
    let waiting: Int
    private let state = Mutex(State())

    init(concurrent: Int = 1, waiting: Int = 8) {
        precondition(concurrent > 0 && waiting >= 0)
        self.concurrent = concurrent
        self.waiting = waiting
    }

    /// Registrations hashing now, and waiting for a place.
    var occupancy: (running: Int, waiting: Int) {
        state.withLock { ($0.running, $0.waiters.count) }
    }

    /// Runs `body` once a place is free.
    ///
    /// - Throws: ``RegistrationBusy`` when every place and every waiting slot is taken.
    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async throws {
        enum Entry { case now, wait, refused }
        let entry = state.withLock { state -> Entry in
            if state.running < concurrent {
                state.running += 1
                return .now
            }
            return state.waiters.count < waiting ? .wait : .refused
        }
        switch entry {
        case .now: return
        case .refused: throw RegistrationBusy()
        case .wait:
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.running < concurrent {
                        state.running += 1
                        return true
                    }
                    state.waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Hands the place to the next waiter, if any (its `running` count carries over).
    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let next = state.waiters.popFirst() { return next }
            state.running -= 1
            return nil
        }
        next?.resume()
    }
}
