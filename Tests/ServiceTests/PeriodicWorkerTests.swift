import Logging
import ServiceKit
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@Suite("Background workers share one loop: pace, failures and shutdown")
struct PeriodicWorkerTests {
    static let logger = Logger(label: "periodic-worker-tests")

    struct Flaky: Error {}
    struct StillWaiting: Error {}
    final class Count: Sendable {
        let value = Atomic<Int>(0)
    }

    @Test("busy passes follow at once, failures are retried, a CancellationError ends the loop")
    func paceAndFailures() async throws {
        let passes = Atomic<Int>(0)
        let started = ContinuousClock.now
        // An hour between idle passes: the loop ends within the test only if busy and failed
        // passes do not wait for it.
        await PeriodicWorker.run("test worker", every: .seconds(3_600), retryAfter: .milliseconds(1), logger: Self.logger) { () async throws -> PeriodicPass in
            let pass = passes.add(1, ordering: .relaxed).newValue
            switch pass {
            case 1...3: throw Flaky()
            case 4...5: return .busy
            default: throw CancellationError()
            }
        }
        #expect(passes.load(ordering: .relaxed) == 6)
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    /// Runs a worker with `pass` every hour under a graceful shutdown that is triggered once its
    /// first pass has begun; throws `StillWaiting` if the worker has not ended 30 s later.
    static func shutDownDuringFirstPass(shutdownGrace: Duration = PeriodicWorker.shutdownGrace, _ pass: @escaping @Sendable () async throws -> Void) async throws {
        let (passStarted, startedContinuation) = AsyncStream<Void>.makeStream()
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await PeriodicWorker.run("test worker", every: .seconds(3_600), shutdownGrace: shutdownGrace, logger: Self.logger) { () async throws -> Void in
                        startedContinuation.yield()
                        try await pass()
                    }
                }
                var iterator = passStarted.makeAsyncIterator()
                await iterator.next()
                trigger.triggerGracefulShutdown()
                group.addTask {
                    try await Task.sleep(for: .seconds(30))
                    throw StillWaiting()
                }
                // The worker ends first; were it still waiting out its hour, StillWaiting would fail the test.
                try await group.next()
                group.cancelAll()
            }
        }
    }

    @Test("a graceful shutdown ends the wait at once, and lets a running pass finish")
    func shutdownEndsTheWait() async throws {
        let finished = Count()
        try await Self.shutDownDuringFirstPass {
            try await Task.sleep(for: .milliseconds(300))
            finished.value.add(1, ordering: .relaxed)
        }
        #expect(finished.value.load(ordering: .relaxed) == 1, "the pass under way finished; no other began")
    }

    @Test("a pass still under way when the shutdown grace is over is cancelled (a store that is down cannot hold the shutdown)")
    func shutdownGraceCancelsAStuckPass() async throws {
        let cancelled = Count()
        let began = ContinuousClock.now
        try await Self.shutDownDuringFirstPass(shutdownGrace: .milliseconds(200)) {
            do {
                try await Task.sleep(for: .seconds(3_600))
            } catch {
                cancelled.value.add(1, ordering: .relaxed)
                throw error
            }
        }
        // The worker does not wait for the cancelled pass to end, so its handler may run just after.
        for _ in 0..<250 where cancelled.value.load(ordering: .relaxed) == 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(cancelled.value.load(ordering: .relaxed) == 1, "the stuck pass was cancelled once")
        #expect(ContinuousClock.now - began < .seconds(10))
    }

    @Test("a pass that ignores its cancellation does not hold the shutdown: the worker stops waiting for it")
    func shutdownDoesNotWaitForAPassThatIgnoresCancellation() async throws {
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        let (ended, endedContinuation) = AsyncStream<Bool>.makeStream()
        let began = ContinuousClock.now
        try await Self.shutDownDuringFirstPass(shutdownGrace: .milliseconds(200)) {
            // Like a library call that goes on retrying a store that is down, whatever happens.
            // (Awaiting an unstructured task's value does not end when the awaiting task is cancelled.)
            await Task { for await _ in release {} }.value
            endedContinuation.yield(Task.isCancelled)
            endedContinuation.finish()
        }
        #expect(ContinuousClock.now - began < .seconds(10), "the worker ended while its pass was still under way")
        releaseContinuation.finish()
        var results = ended.makeAsyncIterator()
        #expect(await results.next() == true, "the abandoned pass was cancelled, and it ended once released")
    }
}
