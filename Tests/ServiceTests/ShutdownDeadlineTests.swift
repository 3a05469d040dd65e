import Foundation
import Logging
@testable import ServiceKit
import Synchronization
import Testing
import UnixSignals

@Suite("A bound on stopping, kept off the event loops")
struct ShutdownDeadlineTests {
    static let logger = Logger(label: "shutdown-deadline-test")

    /// When a deadline expired, if it did.
    final class Expiry: Sendable {
        private let instant = Mutex<ContinuousClock.Instant?>(nil)
        var at: ContinuousClock.Instant? { instant.withLock { $0 } }

        func expire() { instant.withLock { $0 = .now } }

        /// A deadline of `limit` that records its expiry here instead of ending the process.
        func deadline(limit: Duration) -> ShutdownDeadline {
            ShutdownDeadline(limit: limit, logger: ShutdownDeadlineTests.logger) { self.expire() }
        }

        /// When the deadline expired, waiting up to `limit` for it.
        func at(within limit: Duration) async throws -> ContinuousClock.Instant? {
            let giveUp = ContinuousClock.now + limit
            while ContinuousClock.now < giveUp {
                if let at { return at }
                try await Task.sleep(for: .milliseconds(10))
            }
            return nil
        }
    }

    @Test("the first stop signal arms the deadline: the process is ended once the limit has passed, not before")
    func signalArms() async throws {
        let expired = Expiry()
        let deadline = expired.deadline(limit: .milliseconds(400))
        let signals = await UnixSignalsSequence(trapping: .sigusr2)
        let watching = Task { await deadline.watch(signals) }
        defer { watching.cancel() }
        let sentAt = ContinuousClock.now
        kill(getpid(), SIGUSR2)
        let at = try #require(try await expired.at(within: .seconds(5)), "the deadline ends the process")
        #expect(at - sentAt >= .milliseconds(400), "not before the limit")
    }

    @Test("a watch that ends before any signal (the services stopped on their own) never ends the process")
    func cancelledWatch() async throws {
        let expired = Expiry()
        let deadline = expired.deadline(limit: .milliseconds(100))
        let signals = await UnixSignalsSequence(trapping: .sigusr1)
        let watching = Task { await deadline.watch(signals) }
        try await Task.sleep(for: .milliseconds(50))
        watching.cancel()
        await watching.value
        #expect(try await expired.at(within: .milliseconds(500)) == nil)
    }

    @Test("armed by hand, the countdown runs on a Dispatch queue: it fires while the thread that armed it is held without suspending")
    func offTheLoops() async throws {
        let expired = Expiry()
        let deadline = expired.deadline(limit: .milliseconds(100))
        deadline.arm()
        // Holds this thread without suspending, as a frozen event loop would, until the deadline has passed.
        let giveUp = Date().addingTimeInterval(5)
        while expired.at == nil, Date() < giveUp { usleep(1_000) }
        #expect(expired.at != nil)
    }
}
