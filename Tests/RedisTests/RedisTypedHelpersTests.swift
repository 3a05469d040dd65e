import Foundation
import Testing

@testable import Redis

@Suite("Typed helpers for sets, hashes and streams against a live server")
struct RedisTypedHelpersTests {
    /// Runs `body` with a fresh key prefix and deletes the keys it names afterwards, passed or not.
    static func withKeys(_ names: [String], _ body: (RedisClient, [String]) async throws -> Void) async throws {
        let client = try SharedRedis.client()
        let prefix = SharedRedis.prefix()
        let keys = names.map { prefix + $0 }
        do {
            try await body(client, keys)
        } catch {
            _ = try? await client.delete(keys)
            await client.shutdown()
            throw error
        }
        _ = try await client.delete(keys)
        await client.shutdown()
    }

    @Test("sets and hashes: adds, removals, reads of missing keys and fields")
    func setsAndHashes() async throws {
        try await Self.withKeys(["set", "hash"]) { client, keys in
            let (set, hash) = (keys[0], keys[1])
            #expect(try await client.setMembers(set) == [])
            #expect(try await client.setAdd(set, ["a", "b", "a"]) == 2)
            #expect(try await client.setRemove(set, ["a", "z"]) == 1)
            #expect(try await client.setMembers(set) == ["b"])

            #expect(try await client.hashGetAll(hash) == [:])
            #expect(try await client.hashSet(hash, [("n", 1), ("text", "x y")]) == 2)
            #expect(try await client.hashSetIfAbsent(hash, field: "n", to: 2) == false)
            #expect(try await client.hashSetIfAbsent(hash, field: "m", to: 3) == true)
            #expect(try await client.hashGet(hash, field: "n") == "1")
            #expect(try await client.hashGet(hash, field: "missing") == nil)
            #expect(try await client.hashGet(hash, fields: ["text", "missing", "m"]) == ["x y", nil, "3"])
            #expect(try await client.hashDelete(hash, fields: ["m", "missing"]) == 1)
            #expect(try await client.hashGetAll(hash) == ["n": "1", "text": "x y"])
            #expect(try await client.exists(hash))
            #expect(try await client.delete(matching: String(set.dropLast("set".count)) + "*") == 2, "the test's two keys, by their shared prefix")
            #expect(try await client.setMembers(set) == [])
            try await client.hashSet(hash, [("n", 1)])
            #expect(try await client.unlink([hash]) == 1)
            let gone = try await client.exists(hash)
            #expect(!gone)
        }
    }

    @Test("streams: a group reads new entries, a second consumer claims what the first left, acknowledgements empty the pending list")
    func streams() async throws {
        try await Self.withKeys(["stream"]) { client, keys in
            let stream = keys[0]
            #expect(try await client.streamInfo(stream) == nil)
            #expect(try await client.streamGroups(stream).isEmpty)
            #expect(try await client.streamCreateGroup(stream, group: "g") == true)
            #expect(try await client.streamCreateGroup(stream, group: "g") == false, "an existing group is fine")
            for index in 0..<5 { try await client.streamAdd(stream, trimmingTo: 1_000, [("n", index), ("kind", "test")]) }
            #expect(try await client.streamLength(stream) == 5)

            let first = try await client.streamReadGroup(stream, group: "g", consumer: "one", count: 3, after: ">")
            #expect(first.map { $0.fields["n"] } == ["0", "1", "2"])
            #expect(try await client.streamReadGroup(stream, group: "g", consumer: "one", count: 10, after: "0").count == 3, "delivered, not acknowledged")
            try await Task.sleep(for: .milliseconds(20))
            let claimed = try await client.streamAutoClaim(stream, group: "g", consumer: "two", minIdleMilliseconds: 10, count: 10)
            #expect(claimed.map(\.id) == first.map(\.id))
            #expect(try await client.streamAcknowledge(stream, group: "g", ids: claimed.map(\.id)) == 3)
            let rest = try await client.streamReadGroup(stream, group: "g", consumer: "two", count: 10, after: ">")
            #expect(rest.map { $0.fields["n"] } == ["3", "4"])

            let group = try #require(try await client.streamGroups(stream).first)
            #expect(group["name"]?.string == "g")
            #expect(group["pending"]?.int == 2)
            #expect(try await client.streamInfo(stream)?["length"]?.int == 5)
        }
    }
}
