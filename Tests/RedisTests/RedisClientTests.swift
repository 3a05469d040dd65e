import EmbeddedResources
import Foundation
import NIOCore
import Testing

@testable import Redis

@Suite("Redis client against a live server")
struct RedisClientTests {
    @Test("10,000 concurrent commands each get their own reply")
    func concurrentCommands() async throws {
        let client = try SharedRedis.client()
        let prefix = SharedRedis.prefix()
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<10_000 {
                group.addTask {
                    let payload = "\(prefix)\(index)"
                    let echoed = try await client.send("ECHO", payload)
                    let counted = try await client.increment("\(prefix)counter")
                    return (echoed.string == payload ? 0 : 1) + (counted > 0 ? 0 : 1)
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(try await client.getString("\(prefix)counter") == "10000")
        try await client.delete(["\(prefix)counter"])
        await client.shutdown()
    }

    @Test("values are binary-safe, NUL bytes and 1 MiB values included")
    func binarySafe() async throws {
        let client = try SharedRedis.client()
        let prefix = SharedRedis.prefix()
        let everyByte = [UInt8](0...255) + [0, 0, 13, 10, 0]
        var large = [UInt8](repeating: 0, count: 1 << 20)
        for index in large.indices { large[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 7) }
        try await client.set("\(prefix)bytes", to: everyByte)
        try await client.set("\(prefix)large", to: large)
        #expect(try await client.get("\(prefix)bytes").map { Array($0.readableBytesView) } == everyByte)
        #expect(try await client.get("\(prefix)large").map { Array($0.readableBytesView) } == large)
        #expect(try await client.get("\(prefix)missing") == nil)
        #expect(try await client.delete(["\(prefix)bytes", "\(prefix)large"]) == 2)
        await client.shutdown()
    }

    @Test("server error replies surface as typed errors")
    func typedServerErrors() async throws {
        let client = try SharedRedis.client()
        let prefix = SharedRedis.prefix()
        try await client.send("RPUSH", "\(prefix)list", "a")
        await #expect(throws: RedisError.server(RedisServerError(message: "WRONGTYPE Operation against a key holding the wrong kind of value"))) {
            try await client.send("INCR", "\(prefix)list")
        }
        do {
            try await client.send("NOSUCHCOMMAND")
            Issue.record("an unknown command succeeded")
        } catch .server(let error) {
            #expect(error.kind == .other(code: "ERR"))
        }
        do {
            try await client.send("EVALSHA", String(repeating: "0", count: 40), 0)
            Issue.record("EVALSHA of an unknown script succeeded")
        } catch .server(let error) {
            #expect(error.kind == .noScript)
        }
        let script = RedisScript(name: "raise", source: "return redis.error_reply('SOLDOUT zone 7 has no seats')")
        do {
            _ = try await client.run(script, keys: [])
            Issue.record("a script's error reply succeeded")
        } catch .server(let error) {
            #expect(error.code == "SOLDOUT")
            #expect(error.message == "SOLDOUT zone 7 has no seats")
        }
        // An error nested inside a reply stays a value; the connection keeps working.
        let nested = try await client.send("EVAL", "return {1, redis.pcall('INCR', KEYS[1])}", 1, "\(prefix)list")
        #expect(nested.array?.first == .integer(1))
        if case .error(let error) = nested.array?.last { #expect(error.kind == .wrongType) } else { Issue.record("expected a nested error, got \(nested)") }
        try await client.delete(["\(prefix)list"])
        await client.shutdown()
    }

    @Test("a timed-out command fails alone; the next command gets its own reply")
    func timeoutKeepsOrder() async throws {
        let server = try await RedisServerProcess.start(["--enable-debug-command", "yes"])
        let client = RedisClient(configuration: server.configuration)
        try await client.ping()
        let started = ContinuousClock.now
        await #expect(throws: RedisError.timeout(milliseconds: 100)) {
            try await client.send(RedisCommand("DEBUG", ["SLEEP", "2"]), timeout: .milliseconds(100))
        }
        #expect(ContinuousClock.now - started < .milliseconds(1_500), "it fails at its timeout, not when the late reply comes")
        // The late reply to DEBUG SLEEP is read and dropped, never handed to this command.
        #expect(try await client.send(RedisCommand("ECHO", ["after"]), timeout: .seconds(10)).string == "after")
        await client.shutdown()
        server.kill()
    }

    @Test("scripts run by SHA, and still run after SCRIPT FLUSH")
    func scriptFlush() async throws {
        // A private server: flushing the shared one would pull scripts from under other suites.
        let server = try await RedisServerProcess.start()
        let client = RedisClient(configuration: server.configuration)
        let prefix = SharedRedis.prefix()
        let release = RedisScript(name: EmbeddedLua.leaseRelease.name, source: EmbeddedLua.leaseRelease.contents)
        try await client.set("\(prefix)lease", to: "owner-1")
        #expect(try await client.run(release, keys: ["\(prefix)lease"], arguments: ["owner-2"]) == .integer(0))
        try await client.send("SCRIPT", "FLUSH")
        #expect(try await client.run(release, keys: ["\(prefix)lease"], arguments: ["owner-1"]) == .integer(1))
        #expect(try await client.get("\(prefix)lease") == nil)
        #expect(try await client.send("SCRIPT", "EXISTS", release.sha1) == .array([.integer(1)]))
        // Flushed between every call, the scripts still run.
        for attempt in 0..<20 {
            try await client.send("SCRIPT", "FLUSH")
            try await client.set("\(prefix)lease", to: "owner-\(attempt)")
            #expect(try await client.run(release, keys: ["\(prefix)lease"], arguments: ["owner-\(attempt)"]) == .integer(1))
        }
        await client.shutdown()
        server.kill()
    }

    @Test("every Lua script embedded from Lua/ loads on the server")
    func embeddedScriptsCompile() async throws {
        let client = try SharedRedis.client(poolSize: 1)
        #expect(!EmbeddedLua.all.isEmpty)
        for file in EmbeddedLua.all {
            let script = RedisScript(name: file.name, source: file.contents)
            let loaded = try await client.send("SCRIPT", "LOAD", file.contents)
            #expect(loaded.string == script.sha1, "\(file.name)")
        }
        await client.shutdown()
    }
}
