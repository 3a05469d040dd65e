import Foundation
import Redis

/// The tests' Redis (`$REDIS_URL`: database 1 of the local services under `make test`), each
/// test in a key space of its own, so that no test sees another's rooms, events, streams or
/// signing keys — not even through the sets that list every room or event.
public enum TestRedis {
    /// The tests' Redis URL.
    public static var url: String {
        ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:16379/1"
    }

    /// The tests' Redis in `space` (a fresh one unless given).
    public static func configuration(
        space: RedisKeySpace = .unique(), poolSize: Int = 2, commandTimeout: Duration = .seconds(2)
    ) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: url)
        configuration.keySpace = space
        configuration.poolSize = poolSize
        configuration.commandTimeout = .nanoseconds(Int64(commandTimeout / .nanoseconds(1)))
        return configuration
    }

    /// A client in a fresh key space for `body`; afterwards, whether `body` threw or not, every
    /// key of the space is deleted and the client shut down.
    public static func withClient<Result>(
        poolSize: Int = 2, commandTimeout: Duration = .seconds(2), _ body: (RedisClient) async throws -> Result
    ) async throws -> Result {
        let redis = RedisClient(configuration: try configuration(poolSize: poolSize, commandTimeout: commandTimeout))
        do {
            let result = try await body(redis)
            await deleteKeySpace(of: redis)
            return result
        } catch {
            await deleteKeySpace(of: redis)
            throw error
        }
    }

    /// Deletes every key of the client's key space (never the standard one), then shuts the client down.
    public static func deleteKeySpace(of redis: RedisClient) async {
        if redis.keySpace != .standard { _ = try? await redis.delete(matching: redis.keySpace.pattern) }
        await redis.shutdown()
    }
}
