import EmbeddedResources
import NIOCore
import NIOPosix
import Testing

@testable import Redis

@Suite("Scripts run from an event loop hand their reply to a callback on that loop")
struct RedisClientEventLoopTests {
    static let release = RedisScript(name: EmbeddedLua.leaseRelease.name, source: EmbeddedLua.leaseRelease.contents)

    /// Runs `script` with a reply callback, called from `loop` when `fromLoop`, else from this
    /// task's thread; returns the reply and whether it came on `loop`.
    static func run(
        _ client: RedisClient, _ script: RedisScript, keys: [String], arguments: [any RedisArgument],
        on loop: any EventLoop, fromLoop: Bool = true, timeout: TimeAmount? = nil
    ) async -> (result: Result<RedisValue, RedisError>, onLoop: Bool) {
        await withCheckedContinuation { continuation in
            let start: @Sendable () -> Void = {
                client.run(script, keys: keys, arguments: arguments, on: loop, timeout: timeout) { result in
                    continuation.resume(returning: (result, loop.inEventLoop))
                }
            }
            if fromLoop { loop.execute(start) } else { start() }
        }
    }

    @Test("a reply, an error reply and a NOSCRIPT after SCRIPT FLUSH all come back on the caller's loop")
    func repliesOnLoop() async throws {
        // A private server: flushing the shared one would pull scripts from under other suites.
        let server = try await RedisServerProcess.start()
        let client = RedisClient(configuration: server.configuration)
        let prefix = SharedRedis.prefix()
        let key = "\(prefix)lease"
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
            try await client.set(key, to: "owner-1")
            let refused = await Self.run(client, Self.release, keys: [key], arguments: ["owner-2"], on: loop)
            #expect(refused.onLoop)
            #expect(try refused.result.get() == .integer(0))

            try await client.send("SCRIPT", "FLUSH")
            let recovered = await Self.run(client, Self.release, keys: [key], arguments: ["owner-1"], on: loop)
            #expect(recovered.onLoop, "the EVAL fallback after NOSCRIPT replies on the loop too")
            #expect(try recovered.result.get() == .integer(1))

            try await client.send("RPUSH", key, "a")
            let wrongType = await Self.run(client, Self.release, keys: [key], arguments: ["owner-1"], on: loop)
            #expect(wrongType.onLoop)
            guard case .failure(.server(let error)) = wrongType.result else {
                Issue.record("GET on a list succeeded: \(wrongType.result)")
                continue
            }
            #expect(error.kind == .wrongType)
            try await client.delete([key])
        }
        await client.shutdown()
        server.kill()
    }

    @Test("called from another thread, the reply still comes on the loop named")
    func offLoopCaller() async throws {
        let client = try SharedRedis.client()
        let key = "\(SharedRedis.prefix())lease"
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        try await client.set(key, to: "owner-1")
        let released = await Self.run(client, Self.release, keys: [key], arguments: ["owner-1"], on: loop, fromLoop: false)
        #expect(released.onLoop)
        #expect(try released.result.get() == .integer(1))
        #expect(try await client.get(key) == nil)
        await client.shutdown()
    }

    @Test("a timed-out script fails alone with .timeout on the loop; the connection goes on")
    func timeoutOnLoop() async throws {
        let server = try await RedisServerProcess.start()
        let client = RedisClient(configuration: server.configuration)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        // Busy for ARGV[1] seconds of the server's clock, on a private server.
        let sleeper = RedisScript(name: "sleep", source: """
            local started = redis.call('TIME')
            for _ = 1, 100000000 do
                local now = redis.call('TIME')
                if (now[1] - started[1]) * 1000000 + (now[2] - started[2]) >= ARGV[1] * 1000000 then return 1 end
            end
            return 0
            """)
        try await client.ping()
        let started = ContinuousClock.now
        let slept = await Self.run(client, sleeper, keys: [], arguments: ["3"], on: loop, timeout: .milliseconds(100))
        #expect(ContinuousClock.now - started < .milliseconds(2_500), "it fails at its timeout, not when the script ends")
        #expect(slept.onLoop)
        guard case .failure(.timeout(let milliseconds)) = slept.result else {
            Issue.record("the script did not time out: \(slept.result)")
            return
        }
        #expect(milliseconds == 100)
        #expect(try await client.send(RedisCommand("ECHO", ["after"]), timeout: .seconds(10)).string == "after")
        await client.shutdown()
        server.kill()
    }

    @Test("a client whose server is gone replies with a connection failure on the loop")
    func serverGone() async throws {
        let server = try await RedisServerProcess.start()
        let client = RedisClient(configuration: server.configuration)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        try await client.ping()
        server.kill()
        try await Task.sleep(for: .milliseconds(200))
        let failed = await Self.run(client, Self.release, keys: ["k"], arguments: ["o"], on: loop)
        #expect(failed.onLoop)
        switch failed.result {
        case .failure(.connectionClosed), .failure(.connectionUnavailable): break
        default: Issue.record("expected a connection failure, got \(failed.result)")
        }
        await client.shutdown()
    }
}
