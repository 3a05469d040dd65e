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

// Runs Swift Concurrency's tasks on NIO's event loops: no thread hops between handlers and tasks.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
await runBookingRush()
