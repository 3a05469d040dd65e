import Foundation
import Queue
import Redis
import ServiceTestSupport

/// The tests' Redis, each client in a key space of its own, and rooms with unique event ids.
enum QueueTestSupport {
    static func redis(poolSize: Int = 2) throws -> RedisClient {
        RedisClient(configuration: try TestRedis.configuration(poolSize: poolSize))
    }

    static func uniqueEvent(_ name: String) -> String {
        "\(name)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Creates a room, runs `body`, then deletes the room; the client's key space goes whether
    /// `body` passed or not. `commandTimeout`: how long a command may wait for its reply.
    static func withRoom<Result>(
        _ configuration: RoomConfiguration,
        name: String = "evt",
        commandTimeout: Duration = .seconds(2),
        _ body: (WaitingRoom, String) async throws -> Result
    ) async throws -> Result {
        try await TestRedis.withClient(commandTimeout: commandTimeout) { redis in
            let room = WaitingRoom(redis: redis)
            let event = uniqueEvent(name)
            try await room.configure(event: event, configuration)
            let result = try await body(room, event)
            try await room.delete(event: event)
            return result
        }
    }

    /// The join sequence number Redis gave a waiting visitor.
    static func sequence(of visitor: String, event: String, redis: RedisClient) async throws -> Int {
        let state = try await redis.send("HGET", QueueKeys(event: event, in: redis.keySpace).visitors, visitor).string ?? ""
        return Int(state.split(separator: ":")[1])!
    }

    /// Releases until nobody is waiting (or `rounds` calls), returning how many were admitted.
    @discardableResult
    static func drain(_ room: WaitingRoom, event: String, rounds: Int = 2_000) async throws -> Int {
        var admitted = 0
        for _ in 0..<rounds {
            let result = try await room.release(event: event)
            admitted += result.admitted
            if result.waiting == 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        return admitted
    }

    /// Number of pairs out of order.
    static func inversions(_ values: [Int]) -> Int {
        var count = 0
        for i in values.indices {
            for j in values.indices where j > i && values[j] < values[i] { count += 1 }
        }
        return count
    }
}

extension VisitorPlace {
    var admission: Admission? {
        if case .admitted(let admission) = self { return admission }
        return nil
    }

    var position: Int? {
        if case .waiting(let position, _, _, _) = self { return position }
        return nil
    }
}
