import Logging
@testable import Queue
import Testing

@Suite("Live streams woken by their room's snapshot changes")
struct RoomSnapshotChangeTests {
    static func snapshots(_ room: WaitingRoom) -> RoomSnapshots {
        RoomSnapshots(room: room, tick: .milliseconds(300), logger: Logger(label: "snapshot-change-test"))
    }

    /// Waits (up to 5 s) until `count` streams wait on `event`.
    static func waitUntilWatched(_ snapshots: RoomSnapshots, event: String, count: Int = 1) async throws {
        for _ in 0..<500 {
            if snapshots.waitingStreams(event: event) >= count { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("no stream came to wait on \(event)")
    }

    /// The value of `task`, or nil when it has not finished within `limit`.
    static func value(of task: Task<RoomVersion, Never>, within limit: Duration) async -> RoomVersion? {
        await withTaskGroup(of: RoomVersion?.self) { group in
            group.addTask { await task.value }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// A paused room for pace changes.
    static let paused = RoomConfiguration(mode: .paused, releaseRate: 10)

    /// Runs `body` with a paused room holding one visitor, that visitor's spot, the room's
    /// snapshots (read once) and their version then.
    static func withPausedVisitor(_ body: (WaitingRoom, String, QueueSpot, RoomSnapshots, RoomVersion) async throws -> Void) async throws {
        try await QueueTestSupport.withRoom(paused) { room, event in
            let spot = try #require(try await room.join(event: event, visitor: "v0").spot)
            let snapshots = Self.snapshots(room)
            _ = try await snapshots.snapshot(event: event)
            try await body(room, event, spot, snapshots, snapshots.version(event: event))
        }
    }

    /// Changes the paused room's pace (its release rate) and reads its snapshot.
    static func changePace(_ room: WaitingRoom, event: String, _ snapshots: RoomSnapshots) async throws {
        var faster = paused
        faster.releaseRate = 50
        try await room.configure(event: event, faster)
        await snapshots.refreshWanted()
    }

    @Test("a read that changes a place wakes the waiting streams; a read that changes nothing wakes none")
    func wakesOnChangeOnly() async throws {
        try await QueueTestSupport.withRoom(Self.paused) { room, event in
            for index in 0..<3 { _ = try await room.join(event: event, visitor: "v\(index)") }
            let snapshots = Self.snapshots(room)
            _ = try await snapshots.snapshot(event: event)
            let seen = snapshots.version(event: event)
            let streams = (0..<3).map { _ in Task { await snapshots.change(event: event, after: seen, until: .now + .seconds(60)) } }
            try await Self.waitUntilWatched(snapshots, event: event, count: streams.count)

            await snapshots.refreshWanted()
            #expect(snapshots.version(event: event) == seen, "the same places read again are no change")
            #expect(snapshots.waitingStreams(event: event) == streams.count, "the streams still wait")

            _ = try await room.join(event: event, visitor: "v3")
            await snapshots.refreshWanted()
            for stream in streams {
                let woken = await Self.value(of: stream, within: .seconds(5))
                #expect(woken != nil && woken != seen, "a new visitor in line changes every place's count")
            }
            #expect(snapshots.waitingStreams(event: event) == 0, "nobody waits any more")
            for stream in streams { stream.cancel() }
        }
    }

    @Test("a wait at a spot outlasts places moving; a change of mode or rate ends it at once near the head, within the spread farther back")
    func paceChange() async throws {
        try await Self.withPausedVisitor { room, event, spot, snapshots, seen in
            let far = Task { await snapshots.change(event: event, after: seen, until: .now + .seconds(60), at: spot, ahead: 5_000) }
            let next = Task { await snapshots.change(event: event, after: seen, until: .now + .seconds(60), at: spot, ahead: 3) }
            let any = Task { await snapshots.change(event: event, after: seen, until: .now + .seconds(60)) }
            try await Self.waitUntilWatched(snapshots, event: event, count: 3)

            _ = try await room.join(event: event, visitor: "v1")
            await snapshots.refreshWanted()
            let moved = await Self.value(of: any, within: .seconds(5))
            #expect(moved != nil && moved?.places != seen.places && moved?.pace == seen.pace, "the line moved at the same pace")
            #expect(snapshots.waitingStreams(event: event) == 2, "the waits at a spot still placed go on")

            try await Self.changePace(room, event: event, snapshots)
            let soon = await Self.value(of: next, within: .seconds(5))
            #expect(soon != nil && soon?.pace != seen.pace, "three ahead: woken with the read")
            #expect(snapshots.waitingStreams(event: event) == 1, "5,000 ahead: woken by a tick within the spread, not in the read's burst")
            _ = snapshots.watchedRooms(expiringBy: .now + RoomSnapshots.paceWakeSpread)
            let paced = await Self.value(of: far, within: .seconds(5))
            #expect(paced != nil && paced?.pace != seen.pace, "a new rate is a new pace")
            #expect(snapshots.waitingStreams(event: event) == 0)
        }
    }

    @Test("waits whose place in line is not known are spread over the whole spread of a change of pace, not woken together at its end")
    func unknownPlacesSpread() async throws {
        try await Self.withPausedVisitor { room, event, spot, snapshots, seen in
            let count = 40
            let streams = (0..<count).map { _ in
                Task { await snapshots.change(event: event, after: seen, until: .now + .seconds(60), at: spot, ahead: .max) }
            }
            try await Self.waitUntilWatched(snapshots, event: event, count: count)

            try await Self.changePace(room, event: event, snapshots)
            _ = snapshots.watchedRooms(expiringBy: .now + RoomSnapshots.paceWakeSpread / 2)
            let left = snapshots.waitingStreams(event: event)
            #expect(left > 0 && left < count, "some woken in the first half of the spread, some not: \(left) of \(count) left")
            _ = snapshots.watchedRooms(expiringBy: .now + RoomSnapshots.paceWakeSpread)
            #expect(snapshots.waitingStreams(event: event) == 0)
            for stream in streams { #expect(await Self.value(of: stream, within: .seconds(5))?.pace != seen.pace) }
        }
    }

    @Test("a wait at a spot sleeps through releases ahead of it and ends with the read that shows its visitor at the head")
    func headReached() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 1_000)) { room, event in
            var joined: [QueueSpot] = []
            for index in 0..<3 { joined.append(try #require(try await room.join(event: event, visitor: "v\(index)").spot)) }
            let spots = joined
            let snapshots = Self.snapshots(room)
            _ = try await snapshots.snapshot(event: event)
            let seen = snapshots.version(event: event)
            let last = Task { await snapshots.change(event: event, after: seen, until: .now + .seconds(60), at: spots[2], ahead: 2) }
            let second = Task { await snapshots.change(event: event, after: seen, until: .now + .seconds(60), at: spots[1], ahead: 1) }
            try await Self.waitUntilWatched(snapshots, event: event, count: 2)

            try await Self.releaseOne(room, event: event)
            await snapshots.refreshWanted()
            #expect(snapshots.version(event: event).places != seen.places, "the release moved the line")
            #expect(snapshots.waitingStreams(event: event) == 2, "both are still behind the head")

            try await Self.releaseOne(room, event: event)
            await snapshots.refreshWanted()
            let woken = await Self.value(of: second, within: .seconds(5))
            #expect(woken != nil, "the second in line reached the head")
            #expect(snapshots.waitingStreams(event: event) == 1, "the last one is still behind it")
            #expect(try await snapshots.place(event: event, visitor: "v1", spot: spots[1]) == nil, "only Redis can place the visitor at the head")

            let stale = snapshots.version(event: event)
            let late = await snapshots.change(event: event, after: seen, until: .now + .seconds(60), at: spots[1], ahead: 1)
            #expect(late == stale, "a stream whose spot is at the head does not wait, whatever older version it held")

            let looked = Task { await snapshots.change(event: event, after: stale, until: .now + .seconds(60), at: spots[1], ahead: 0) }
            try await Self.waitUntilWatched(snapshots, event: event, count: 2)
            try await Task.sleep(for: .milliseconds(300))
            #expect(
                snapshots.waitingStreams(event: event) == 2,
                "one that looked at the current version (Redis placed it, the snapshot did not) waits for the next read instead of asking Redis again at once"
            )
            looked.cancel()
            #expect(await looked.value == stale)
            last.cancel()
        }
    }

    /// Releases the room, one entry a call, until one more visitor is admitted.
    static func releaseOne(_ room: WaitingRoom, event: String) async throws {
        for _ in 0..<100 {
            if try await room.release(event: event, maxBatch: 1).admitted > 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("nobody was released")
    }

    @Test("a release wakes a stream in the queue with the read that moves its head")
    func releaseWakes() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 100)) { room, event in
            for index in 0..<3 { _ = try await room.join(event: event, visitor: "v\(index)") }
            let snapshots = Self.snapshots(room)
            let before = try await snapshots.snapshot(event: event)
            let seen = snapshots.version(event: event)
            let stream = Task { await snapshots.change(event: event, after: seen, until: .now + .seconds(60)) }
            try await Self.waitUntilWatched(snapshots, event: event)

            var admitted = 0
            for _ in 0..<100 where admitted == 0 {
                admitted += try await room.release(event: event).admitted
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(admitted >= 1)
            await snapshots.refreshWanted()
            #expect(await Self.value(of: stream, within: .seconds(5)) != nil)
            #expect(try await snapshots.snapshot(event: event).queue != before.queue)
            stream.cancel()
        }
    }

    @Test("a wait ends at its deadline with the next tick, and at once when its task is cancelled, before or while it waits")
    func deadlinesAndCancellation() async throws {
        try await QueueTestSupport.withRoom(Self.paused) { room, event in
            _ = try await room.join(event: event, visitor: "v0")
            let snapshots = Self.snapshots(room)
            _ = try await snapshots.snapshot(event: event)
            let seen = snapshots.version(event: event)

            let timed = Task { await snapshots.change(event: event, after: seen, until: .now + .milliseconds(100)) }
            try await Self.waitUntilWatched(snapshots, event: event)
            try await Task.sleep(for: .milliseconds(150))
            #expect(snapshots.watchedRooms(expiringBy: .now).isEmpty, "the tick after the deadline ends the wait")
            #expect(await Self.value(of: timed, within: .seconds(5)) == seen)

            let current = snapshots.version(event: event)
            let waiting = Task { await snapshots.change(event: event, after: current, until: .now + .seconds(60)) }
            try await Self.waitUntilWatched(snapshots, event: event)
            waiting.cancel()
            #expect(await Self.value(of: waiting, within: .seconds(5)) != nil, "cancelled while waiting")
            #expect(snapshots.waitingStreams(event: event) == 0)

            let early = Task {
                while !Task.isCancelled { await Task.yield() }
                return await snapshots.change(event: event, after: snapshots.version(event: event), until: .now + .seconds(60))
            }
            early.cancel()
            #expect(await Self.value(of: early, within: .seconds(5)) != nil, "cancelled before it waited")
        }
    }

    @Test("a version held while the room's watch was forgotten is never taken for the current one")
    func forgottenWatch() async throws {
        try await QueueTestSupport.withRoom(Self.paused) { room, event in
            let snapshots = Self.snapshots(room)
            let held = snapshots.version(event: event)
            #expect(snapshots.watchedRooms(expiringBy: .now).isEmpty, "a watch nobody waits on is forgotten")
            let again = await snapshots.change(event: event, after: held, until: .now + .seconds(60))
            #expect(again != held, "the stream looks at its place again rather than miss a change made meanwhile")
            #expect(snapshots.version(event: event) == again)
        }
    }
}
