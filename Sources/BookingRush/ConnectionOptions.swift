import ArgumentParser
import Database
import Foundation
import Logging
import PostgresNIO
import Redis
import ServiceKit

/// Where Redis and Postgres are; flags win over `REDIS_URL` and `DATABASE_URL`.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Redis URL (default: $REDIS_URL, or the local services' Redis)")
    var redisURL: String?

    @Option(help: "First segment of every Redis key (default: $REDIS_KEY_SPACE, or bk); deployments sharing a Redis database name their own")
    var redisKeySpace: String?

    @Option(help: "Postgres URL (default: $DATABASE_URL, or the local services' Postgres)")
    var databaseURL: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical")
    var logLevel: Logger.Level = .info

    func redisConfiguration() throws -> RedisConfiguration {
        let url = redisURL ?? ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:16379/0"
        var configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(url: url)
        } catch {
            throw ValidationError("REDIS_URL: \(error)")
        }
        if let space = redisKeySpace ?? ProcessInfo.processInfo.environment["REDIS_KEY_SPACE"], !space.isEmpty {
            do {
                configuration.keySpace = try RedisKeySpace(space)
            } catch {
                throw ValidationError("REDIS_KEY_SPACE: \(error)")
            }
        }
        return configuration
    }

    func postgresConfiguration() throws -> PostgresClient.Configuration {
        let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"]
            ?? "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush"
        do {
            return try PostgresClient.Configuration(url: url)
        } catch {
            throw ValidationError("DATABASE_URL: \(error)")
        }
    }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Reads an integer environment variable (`value` when it is unset or empty); a value that is not
/// a whole number in `range` ends the process with a message (``environmentInteger(_:in:unit:environment:)``).
func environmentInteger(_ name: String, default value: Int, in range: ClosedRange<Int>, unit: String? = nil) -> Int {
    environmentInteger(name, in: range, unit: unit) ?? value
}

/// The ports a server may listen on: 0 asks the system for a free one.
let portNumbers = 0...65_535

/// Refuses a port option outside ``portNumbers`` (exit status 64 with the usage), which the
/// socket would otherwise take modulo 65536 (`--port 80800` listening on 15264).
func refusePorts(_ options: (name: String, port: Int)...) throws {
    for option in options where !portNumbers.contains(option.port) {
        throw ValidationError("\(option.name) must be a port number from 0 to 65535, not \(option.port)")
    }
}

/// `EVENT_LOOP_THREADS` (1 to 256), or nil when unset; the process exits with a message when it
/// is set to anything else.
func eventLoopThreads() -> Int? {
    environmentInteger("EVENT_LOOP_THREADS", in: 1...256)
}
