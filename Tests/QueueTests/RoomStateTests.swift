import Foundation
import Queue
import Redis
import Testing

@Suite("A room's state ends: ended places and passes are pruned, deleted rooms leave no keys")
struct RoomStateTests {
    @Test("a waiting visitor's state is 'w:' and the join's Unix second (12 bytes); the oldest wait reads it and the older format")
    func compactWaitingState() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .paused, releaseRate: 0), name: "state") { room, event in
            let keys = QueueKeys(event: event, in: room.redis.keySpace)
            let before = Int(Date().timeIntervalSince1970)
            _ = try await room.join(event: event, visitor: "first")
            _ = try await room.join(event: event, visitor: "second")
            let state = try #require(try await room.redis.send("HGET", keys.visitors, "first").string)
            #expect(state.utf8.count == 12 && state.hasPrefix("w:"), "\(state)")
            let joined = try #require(Int(state.dropFirst(2)))
            #expect(joined >= before && joined <= Int(Date().timeIntervalSince1970))
            #expect(try await room.stats(event: event).oldestWaitMilliseconds < 2_000)

            let anHourAgo = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
            _ = try await room.redis.send("HSET", keys.visitors, "first", "w:1:\(anHourAgo)")
            let oldest = try await room.stats(event: event).oldestWaitMilliseconds
            #expect(oldest >= 3_600_000 && oldest < 3_610_000, "a state in the older format still reads: \(oldest)")
        }
    }

    @Test("a pre-queue visitor keeps no state entry: joins, polls, leaving, admission and the oldest wait read the pre-queue itself")
    func statelessPrequeue() async throws {
        let opensAt = Int64(Date().timeIntervalSince1970 * 1000) + 1_500
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .paused, releaseRate: 1_000, opensAt: opensAt), name: "state") { room, event in
            let keys = QueueKeys(event: event, in: room.redis.keySpace)
            let redis = room.redis
            _ = try await redis.send("HSET", keys.visitors, "returns", "x")
            for visitor in ["early", "stays", "returns"] {
                guard case .prequeue = try await room.join(event: event, visitor: visitor).place else {
                    Issue.record("\(visitor) joins the pre-queue before opens_at")
                    return
                }
            }
            #expect(try await redis.send("HLEN", keys.visitors).int == 0, "no state for the pre-queue, a lost place's 'x' is gone too")
            let again = try await room.join(event: event, visitor: "early")
            #expect(!again.joined, "a second join keeps the pre-queue place")
            #expect(try await redis.send("ZCARD", keys.prequeue).int == 3)
            guard case .prequeue(_, let count, _) = try await room.status(event: event, visitor: "stays") else {
                Issue.record("a pre-queue visitor's poll says so")
                return
            }
            #expect(count == 3)
            #expect(try await room.leave(event: event, visitor: "early"), "leaving the pre-queue is leaving a place")
            #expect(try await !room.leave(event: event, visitor: "early"))
            await #expect(throws: QueueError.notInQueue) { try await room.status(event: event, visitor: "early") }

            while Int64(Date().timeIntervalSince1970 * 1000) < opensAt + 300 { try await Task.sleep(for: .milliseconds(50)) }
            guard case .waiting(let position, _, let waiting, _) = try await room.status(event: event, visitor: "stays") else {
                Issue.record("after opens_at the pre-queue waits at the head of the line")
                return
            }
            #expect(position >= 1 && position <= 2 && waiting == 2)
            let oldest = try await room.stats(event: event).oldestWaitMilliseconds
            #expect(oldest >= 300 && oldest < 10_000, "the pre-queue has waited since opens_at: \(oldest) ms")

            try await room.setMode(event: event, .queue)
            #expect(try await QueueTestSupport.drain(room, event: event) == 2)
            guard case .admitted = try await room.status(event: event, visitor: "stays") else {
                Issue.record("a pre-queue visitor is admitted with an 'a' state like everyone else")
                return
            }
            #expect(try await redis.send("HLEN", keys.visitors).int == 2)
        }
    }

    @Test("lost places and expired passes are pruned after keepEnded, rejoined visitors keep their place, nothing is orphaned")
    func pruning() async throws {
        let configuration = RoomConfiguration(mode: .queue, releaseRate: 1_000, passTTL: 10, idleTimeout: 5)
        try await QueueTestSupport.withRoom(configuration, name: "prune") { room, event in
            let keys = QueueKeys(event: event, in: room.redis.keySpace)
            let redis = room.redis
            for visitor in ["expires", "returns"] { _ = try await room.join(event: event, visitor: visitor) }
            try await Task.sleep(for: .milliseconds(20))
            #expect(try await QueueTestSupport.drain(room, event: event) == 2)
            try await room.setMode(event: event, .paused)
            _ = try await room.join(event: event, visitor: "walks-away")

            try await Task.sleep(for: .milliseconds(10_300))
            guard case .waiting = try await room.join(event: event, visitor: "returns").place else {
                Issue.record("a visitor whose pass expired joins again at the back")
                return
            }
            await #expect(throws: QueueError.placeLost) { try await room.status(event: event, visitor: "walks-away") }
            await #expect(throws: QueueError.passExpired) { try await room.status(event: event, visitor: "expires") }

            _ = try await room.release(event: event, keepEnded: .zero)
            _ = try await room.release(event: event, keepEnded: .zero)
            await #expect(throws: QueueError.notInQueue) { try await room.status(event: event, visitor: "walks-away") }
            await #expect(throws: QueueError.notInQueue) { try await room.status(event: event, visitor: "expires") }
            guard case .waiting = try await room.status(event: event, visitor: "returns") else {
                Issue.record("pruning took the place of a visitor who had joined again")
                return
            }
            #expect(try await room.leave(event: event, visitor: "returns"))
            for key in [keys.waiting, keys.seen, keys.prequeue, keys.visitors, keys.active, keys.ended] {
                #expect(try await redis.send("EXISTS", key).int == 0, "\(key) is left behind")
            }

            try await room.delete(event: event)
            let left = try await redis.send("KEYS", keys.prefix + "*").array ?? []
            #expect(left.isEmpty, "a deleted room leaves \(left)")
        }
    }

    @Test("with keepEnded not yet past, a lost visitor still learns that their place was lost")
    func keptWhileRecent() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .paused, releaseRate: 1_000, idleTimeout: 5), name: "prune") { room, event in
            _ = try await room.join(event: event, visitor: "walks-away")
            try await Task.sleep(for: .milliseconds(5_200))
            _ = try await room.release(event: event)
            _ = try await room.release(event: event)
            await #expect(throws: QueueError.placeLost) { try await room.status(event: event, visitor: "walks-away") }
        }
    }
}

@Suite("Room snapshots place visitors without asking Redis")
struct RoomSnapshotPlacementTests {
    @Test("after opening, snapshot positions match Redis exactly at the marks and within the gap between marks elsewhere")
    func prequeuePlacement() async throws {
        let opensAt = Int64(Date().timeIntervalSince1970 * 1000) + 2_000
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .paused, releaseRate: 10, opensAt: opensAt), name: "snap") { room, event in
            var spots: [String: QueueSpot] = [:]
            for index in 0..<200 {
                let visitor = "v\(index)"
                let spot = try #require(try await room.join(event: event, visitor: visitor).spot)
                spots[visitor] = spot
            }
            while Int64(Date().timeIntervalSince1970 * 1000) < opensAt + 50 { try await Task.sleep(for: .milliseconds(50)) }
            for index in 0..<20 {
                let visitor = "late\(index)"
                let spot = try #require(try await room.join(event: event, visitor: visitor).spot)
                spots[visitor] = spot
            }
            let snapshot = try await room.snapshot(event: event)
            #expect(snapshot.opened && snapshot.prequeue.count == 200 && snapshot.queue.count == 20)
            #expect(snapshot.prequeue.marks.count == 33 && snapshot.queue.marks.count == 20)
            var exact = 0, worst = 0
            for (visitor, spot) in spots {
                guard case .waiting(let redisPosition, _, _, _) = try await room.status(event: event, visitor: visitor),
                      case .waiting(let snapshotPosition, _, let total, _) = snapshot.place(of: spot)
                else {
                    Issue.record("\(visitor) should be waiting in Redis and in the snapshot")
                    continue
                }
                #expect(total == 220)
                if spot.line == .queue { #expect(snapshotPosition == redisPosition, "a short line is placed exactly") }
                if snapshotPosition == redisPosition { exact += 1 }
                worst = max(worst, abs(snapshotPosition - redisPosition))
            }
            #expect(worst <= 6, "200 draws, 33 marks: a gap of at most 7 ranks")
            #expect(exact >= 53, "every mark and every visitor of the short line is exact")
        }
    }
}
