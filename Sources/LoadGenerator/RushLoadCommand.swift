import ArgumentParser

/// `rush-load`: load generators and micro-benchmarks for Booking Rush.
struct RushLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rush-load",
        abstract: "Load generators and benchmarks for Booking Rush.",
        subcommands: [FlashSaleCommand.self, RedisBenchmarkCommand.self, TokensCommand.self]
    )
}
