import Foundation

extension RedisClient {
    /// `LRANGE key start stop`, each entry decoded from JSON as `T`; entries that do not decode
    /// are skipped. Negative indexes count from the tail, as in Redis.
    public func jsonList<T: Decodable>(_ key: String, from start: Int, through stop: Int, as type: T.Type = T.self) async throws(RedisError) -> [T] {
        let reply = try await send(RedisCommand("LRANGE", [key, start, stop]))
        guard let entries = reply.array else { throw .unexpectedReply(reply) }
        let decoder = JSONDecoder()
        return entries.compactMap { entry in
            entry.string.flatMap { try? decoder.decode(T.self, from: Data($0.utf8)) }
        }
    }
}
