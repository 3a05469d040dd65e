import Logging
import ServiceKit
import ServiceLifecycle
import Synchronization

/// The room snapshots of one gateway: each room's snapshot is read at most once a `tick` and
/// shared by every poll this gateway answers; the polls it answers are recorded as signs of life
/// with the next read, one call per room per tick. Runs as a service that keeps the rooms polled
/// in the last few seconds fresh; a request that finds its room's snapshot stale reads it itself,
/// sharing that read with every other request waiting for the same room.
public final class RoomSnapshots: Service, Sendable {
    public let room: WaitingRoom
    public let tick: Duration
    /// How old a snapshot may be and still answer a poll at once: two ticks (a stored product,
    /// as `Duration * Int` is a generic 128-bit multiplication on every poll).
    private let freshFor: Duration
    let logger: Logger
    private let rooms = Mutex<[String: Entry]>([:])
    private let readCount = Atomic<Int>(0)
    private let answerCount = Atomic<Int>(0)
    private let answerAtOnceCount = Atomic<Int>(0)
    /// Visitors who left (or were taken out) through this gateway, by event, and when: snapshots
    /// taken before cannot know, and a spot between two marks would still place them.
    private let departed = Mutex<[String: [String: ContinuousClock.Instant]]>([:])
    private let departedCount = Atomic<Int>(0)
    /// Streams waiting for a room's snapshot to change (``change(event:after:until:at:ahead:)``), by event.
    let watches = Mutex<[String: RoomWatch]>([:])
    /// Ids of waits and versions of rooms, from one counter: never reused.
    let watchSerials = Atomic<UInt64>(0)
    /// How long a departure is remembered, and how many at most.
    static let departureMemory = Duration.seconds(600)
    static let departuresKept = 10_000

    /// Snapshot calls this gateway has made to Redis so far.
    public var reads: Int { readCount.load(ordering: .relaxed) }
    /// Polls this gateway has answered from snapshots so far.
    public var answers: Int { answerCount.load(ordering: .relaxed) }
    /// Of those, the polls answered without waiting for a read (``placeIfFresh(event:visitor:spot:)``).
    public var answersAtOnce: Int { answerAtOnceCount.load(ordering: .relaxed) }

    struct Entry {
        var snapshot: RoomSnapshot?
        var polls: Set<String> = []
        var reading: Task<RoomSnapshot, any Error>?
        var askedAt: ContinuousClock.Instant

        /// The place at `spot` when the snapshot is no older than `freshFor`, the poll recorded
        /// as a sign of life; the entry is changed in place (one lookup, no copy of the snapshot).
        mutating func answer(spot: QueueSpot, visitor: String, now: ContinuousClock.Instant, freshFor: Duration) -> VisitorPlace? {
            guard let takenAt = snapshot?.takenAt, now - takenAt <= freshFor, let place = snapshot?.place(of: spot) else { return nil }
            askedAt = now
            polls.insert(visitor)
            return place
        }
    }

    public init(room: WaitingRoom, tick: Duration = .milliseconds(250), logger: Logger) {
        self.room = room
        self.tick = tick
        self.freshFor = tick * 2
        self.logger = logger
    }

    /// The place of `visitor`, filed at `spot`, from the room's snapshot, recording the poll as a
    /// sign of life; nil when only Redis can tell.
    public func place(event: String, visitor: String, spot: QueueSpot) async throws(QueueError) -> VisitorPlace? {
        let snapshot = try await snapshot(event: event)
        guard let place = snapshot.place(of: spot), !hasDeparted(event: event, visitor: visitor) else { return nil }
        rooms.withLock { rooms in _ = rooms[event]?.polls.insert(visitor) }
        answerCount.add(1, ordering: .relaxed)
        return place
    }

    /// The place of `visitor`, filed at `spot`, from the room's snapshot when it is no older than
    /// a tick, recording the poll as a sign of life; nil when the snapshot is stale or missing (no
    /// waiting: ``place(event:visitor:spot:)`` reads it) or when only Redis can tell.
    ///
    /// A snapshot between one and two ticks old still answers while the next read is under way,
    /// and the poll that finds none under way starts it: the refresher reads a tick after its last
    /// read ended, so without this every tick would leave a gap, the length of a read, in which
    /// every poll waited for Redis.
    public func placeIfFresh(event: String, visitor: String, spot: QueueSpot) -> VisitorPlace? {
        let now = ContinuousClock.now
        let place: VisitorPlace? = rooms.withLock { rooms in
            guard let index = rooms.index(forKey: event),
                  let place = rooms.values[index].answer(spot: spot, visitor: visitor, now: now, freshFor: freshFor)
            else { return nil }
            if let takenAt = rooms.values[index].snapshot?.takenAt, now - takenAt > tick, rooms.values[index].reading == nil {
                rooms.values[index].reading = startRead(event: event)
            }
            return place
        }
        if place != nil, hasDeparted(event: event, visitor: visitor) { return nil }
        if place != nil {
            answerCount.add(1, ordering: .relaxed)
            answerAtOnceCount.add(1, ordering: .relaxed)
        }
        return place
    }

    /// Whether the room's snapshot is no older than a tick: a poll it cannot place is then one
    /// only Redis can answer (a visitor at the head of their line, or gone from it).
    public func isFresh(event: String) -> Bool {
        let now = ContinuousClock.now
        return rooms.withLock { rooms in
            guard let takenAt = rooms[event]?.snapshot?.takenAt else { return false }
            return now - takenAt <= tick
        }
    }

    /// Records that `visitor` left the room (or was taken out): this gateway's snapshots no
    /// longer place them, so their polls go to Redis, which knows.
    public func departed(event: String, visitor: String) {
        let now = ContinuousClock.now
        departed.withLock { departed in
            var count = departedCount.load(ordering: .relaxed)
            if count >= Self.departuresKept {
                departed = departed.compactMapValues { visitors in
                    let recent = visitors.filter { now - $0.value < Self.departureMemory }
                    return recent.isEmpty ? nil : recent
                }
                count = departed.values.reduce(0) { $0 + $1.count }
                if count >= Self.departuresKept { departed.removeAll(); count = 0 }
            }
            if departed[event, default: [:]].updateValue(now, forKey: visitor) == nil { count += 1 }
            departedCount.store(count, ordering: .relaxed)
        }
    }

    private func hasDeparted(event: String, visitor: String) -> Bool {
        guard departedCount.load(ordering: .relaxed) > 0 else { return false }
        let now = ContinuousClock.now
        return departed.withLock { departed in
            guard let at = departed[event]?[visitor] else { return false }
            return now - at < Self.departureMemory
        }
    }

    /// The room's snapshot, no older than a tick.
    public func snapshot(event: String) async throws(QueueError) -> RoomSnapshot {
        let now = ContinuousClock.now
        let (fresh, reading): (RoomSnapshot?, Task<RoomSnapshot, any Error>?) = rooms.withLock { rooms in
            var entry = rooms[event] ?? Entry(askedAt: now)
            entry.askedAt = now
            defer { rooms[event] = entry }
            if let snapshot = entry.snapshot, now - snapshot.takenAt <= tick { return (snapshot, nil) }
            if let reading = entry.reading { return (nil, reading) }
            let task = startRead(event: event)
            entry.reading = task
            return (nil, task)
        }
        if let fresh { return fresh }
        guard let reading else { throw .unavailable("no snapshot read for \(event)") }
        do {
            return try await reading.value
        } catch let error as QueueError {
            throw error
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// A read of the room's snapshot, for its entry's `reading` (which the read clears when done).
    private func startRead(event: String) -> Task<RoomSnapshot, any Error> {
        Task { try await self.read(event: event) }
    }

    /// Reads the room's snapshot, recording the polls answered since the last read.
    private func read(event: String) async throws(QueueError) -> RoomSnapshot {
        var polls = rooms.withLock { rooms in
            defer { rooms[event]?.polls = [] }
            return Array(rooms[event]?.polls ?? [])
        }
        do {
            var snapshot: RoomSnapshot
            repeat {
                let batch = Array(polls.prefix(WaitingRoom.pollsPerSnapshotCall))
                polls.removeFirst(batch.count)
                readCount.add(1, ordering: .relaxed)
                snapshot = try await room.snapshot(event: event, recordingPollsOf: batch)
            } while !polls.isEmpty
            let before = rooms.withLock { rooms in
                defer {
                    rooms[event]?.snapshot = snapshot
                    rooms[event]?.reading = nil
                }
                return rooms[event]?.snapshot
            }
            if before.map({ !$0.placesAlike(snapshot) }) ?? true {
                announceChange(event: event, snapshot: snapshot, pace: before.map { !$0.paceAlike(snapshot) } ?? true)
            }
            return snapshot
        } catch {
            rooms.withLock { rooms in
                rooms[event]?.reading = nil
                if case .roomNotFound = error { rooms[event]?.snapshot = nil }
            }
            if case .roomNotFound = error { announceChange(event: event, snapshot: nil, pace: true) }
            throw error
        }
    }

    /// Every tick, reads the snapshot of each room polled in the last `keepWarm` and forgets
    /// rooms nobody asked about since.
    public func run() async throws {
        await PeriodicWorker.run("refreshing room snapshots", every: tick, logger: logger) { await self.refreshWanted() }
    }

    /// Reads every room asked about in the last five seconds (or with polls or streams waiting)
    /// whose snapshot is not being read already; forgets the others. Streams whose wait is over
    /// are woken first.
    func refreshWanted() async {
        let keepWarm = Duration.seconds(5)
        let now = ContinuousClock.now
        let watched = watchedRooms(expiringBy: now)
        let reads = rooms.withLock { rooms in
            for event in watched where rooms[event] == nil { rooms[event] = Entry(askedAt: now) }
            rooms = rooms.filter { now - $0.value.askedAt <= keepWarm || !$0.value.polls.isEmpty || watched.contains($0.key) }
            return rooms.keys.compactMap { event -> (String, Task<RoomSnapshot, any Error>)? in
                guard rooms[event]?.reading == nil else { return nil }
                let task = startRead(event: event)
                rooms[event]?.reading = task
                return (event, task)
            }
        }
        for (event, reading) in reads {
            do {
                _ = try await reading.value
            } catch QueueError.roomNotFound {
                rooms.withLock { _ = $0.removeValue(forKey: event) }
            } catch {
                logger.warning("room snapshot failed", metadata: ["event": "\(event)", "error": "\(error)"])
            }
        }
    }
}
