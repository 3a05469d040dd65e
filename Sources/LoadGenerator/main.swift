import ArgumentParser
import NIOCore
import NIOPosix

/// Top-level code prefers `ParsableCommand`'s synchronous `main`; an async function picks the async one.
func runLoadGenerator() async {
    await RushLoadCommand.main()
}

_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
await runLoadGenerator()
