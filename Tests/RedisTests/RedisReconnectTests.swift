import Foundation
import NIOCore
import Testing

@testable import Redis

@Suite("Redis client when the server dies, restarts or wants a password")
struct RedisReconnectTests {
    @Test("killing Redis fails in-flight commands fast; after a restart, commands succeed again")
    func killAndRestart() async throws {
        let server = try await RedisServerProcess.start()
        var configuration = server.configuration
        configuration.commandTimeout = .seconds(30)
        let client = RedisClient(configuration: configuration)
        try await client.ping()

        // Blocked commands stay in flight until the server dies.
        let inFlight = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 { group.addTask { try await client.send("BLPOP", "never:\(index)", 0) } }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let killedAt = ContinuousClock.now
        server.kill()
        await #expect(throws: RedisError.connectionClosed) { try await inFlight.value }
        #expect(ContinuousClock.now - killedAt < .seconds(5), "in-flight commands fail when the connection drops, not at their 30 s timeout")

        // While the server is down, commands fail fast too.
        let failedAt = ContinuousClock.now
        await #expect(throws: RedisError.self) { try await client.ping() }
        #expect(ContinuousClock.now - failedAt < .seconds(1))

        #expect(try await server.launch())
        var recovered = false
        let deadline = ContinuousClock.now + .seconds(5)
        while !recovered, ContinuousClock.now < deadline {
            do {
                try await client.ping()
                recovered = true
            } catch {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(recovered, "the client reconnects after the server is back")
        #expect(try await client.send("ECHO", "back").string == "back")
        await client.shutdown()
        server.kill()
    }

    @Test("AUTH and SELECT come from the URL")
    func authAndSelect() async throws {
        let server = try await RedisServerProcess.start(["--requirepass", "s3cret"])
        let selected = RedisClient(configuration: try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/5"))
        try await selected.set("where", to: "five")
        let defaultDatabase = RedisClient(configuration: try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)"))
        #expect(try await defaultDatabase.getString("where") == nil)
        #expect(try await selected.getString("where") == "five")

        let wrong = RedisClient(configuration: try RedisConfiguration(url: "redis://:nope@127.0.0.1:\(server.port)"))
        do {
            try await wrong.ping()
            Issue.record("a wrong password was accepted")
        } catch .server(let error) {
            #expect(error.kind == .authentication)
        }
        for client in [selected, defaultDatabase, wrong] { await client.shutdown() }
        server.kill()
    }

    @Test("a client that is shut down refuses commands")
    func shutdown() async throws {
        let client = try SharedRedis.client()
        try await client.ping()
        await client.shutdown()
        await #expect(throws: RedisError.clientShutdown) { try await client.ping() }
    }
}
