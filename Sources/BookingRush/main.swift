import ArgumentParser
import NIOCore
import NIOPosix
import ServiceKit

/// Top-level code prefers `ParsableCommand`'s synchronous `main`; an async function picks the async one.
func runBookingRush() async {
    await BookingRushCommand.main()
}

JSONLogHandler.bootstrap()
ServiceMetrics.bootstrap()

// EVENT_LOOP_THREADS: how many event loops (and so threads for every task) the process runs;
// the machine's cores by default.
if let threads = eventLoopThreads() { NIOSingletons.groupLoopCountSuggestion = threads }
// Runs Swift Concurrency's tasks on NIO's event loops: no thread hops between handlers and tasks.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
await runBookingRush()
