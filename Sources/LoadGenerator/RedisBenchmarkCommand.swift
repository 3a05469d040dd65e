import ArgumentParser
import EmbeddedResources
import Foundation
import NIOCore
import Redis

/// `rush-load redis`: GET/SET/EVALSHA throughput of the Redis client with N concurrent callers,
/// each waiting for its reply before sending the next (as `redis-benchmark -c N -P 1` does).
struct RedisBenchmarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Measure GET, SET and EVALSHA throughput of the Redis client."
    )

    @Option(help: "Redis URL") var url = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:16379/0"
    @Option(help: "Concurrent callers") var clients = 50
    @Option(help: "Commands per test") var requests = 200_000
    @Option(help: "Connections in the client's pool") var connections = 2
    @Option(help: "Tests to run, comma-separated: get,set,evalsha") var tests = "set,get,evalsha"
    @Flag(help: "Print one JSON object per test instead of text") var json = false

    struct Result: Codable {
        var test: String
        var requests: Int
        var clients: Int
        var seconds: Double
        var opsPerSecond: Double
        var p50Microseconds: Double
        var p99Microseconds: Double
        var rssKiB: Int?
        var peakRssKiB: Int?
    }

    func run() async throws {
        var configuration = try RedisConfiguration(url: url)
        configuration.poolSize = connections
        let client = RedisClient(configuration: configuration)
        try await client.ping()
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: 3)
        try await client.set("key:__rand_int__", to: value)
        let script = RedisScript(name: EmbeddedLua.leaseRelease.name, source: EmbeddedLua.leaseRelease.contents)
        for test in tests.split(separator: ",").map(String.init) {
            let command: @Sendable () async throws -> Void
            switch test {
            case "set": command = { try await client.set("key:__rand_int__", to: value) }
            case "get": command = { _ = try await client.get("key:__rand_int__") }
            case "evalsha": command = { _ = try await client.run(script, keys: ["bench:lease"], arguments: ["owner"]) }
            default: throw ValidationError("unknown test '\(test)'")
            }
            let result = try await measure(test, command)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print(String(
                    format: "%@: %.0f requests per second, p50=%.0f µs, p99=%.0f µs, rss=%d KiB",
                    test.uppercased(), result.opsPerSecond, result.p50Microseconds, result.p99Microseconds, result.rssKiB ?? -1
                ))
            }
        }
        await client.shutdown()
    }

    private func measure(_ test: String, _ command: @escaping @Sendable () async throws -> Void) async throws -> Result {
        // Warm up connections and the script cache.
        for _ in 0..<1_000 { try await command() }
        let perClient = requests / clients
        let clock = ContinuousClock()
        let start = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var samples: [Int64] = []
                    samples.reserveCapacity(perClient)
                    for _ in 0..<perClient {
                        let sent = clock.now
                        try await command()
                        let elapsed = clock.now - sent
                        samples.append(elapsed.components.attoseconds / 1_000_000_000 + elapsed.components.seconds * 1_000_000_000)
                    }
                    return samples
                }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }.sorted()
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        func percentile(_ fraction: Double) -> Double {
            Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))]) / 1_000
        }
        return Result(
            test: test, requests: latencies.count, clients: clients, seconds: seconds,
            opsPerSecond: Double(latencies.count) / seconds,
            p50Microseconds: percentile(0.50), p99Microseconds: percentile(0.99),
            rssKiB: ProcessMemory.residentKiB, peakRssKiB: ProcessMemory.peakResidentKiB
        )
    }
}
