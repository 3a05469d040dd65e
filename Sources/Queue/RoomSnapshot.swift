import EmbeddedResources
import Redis

/// One gateway's view of a room, read from Redis at most once a tick and shared by every poll it
/// answers: the mode, the rates and marks along both lines. A waiting visitor's rank comes from
/// where their score falls between the marks, so polls cost Redis nothing; admission still
/// happens only in Redis.
public struct RoomSnapshot: Sendable, Hashable {
    public var mode: String
    public var opensAt: Int64
    /// Whether the pre-queue is served ahead of the queue.
    public var opened: Bool
    public var rates: ReleaseRates
    public var queue: LineMarks
    public var prequeue: LineMarks
    public var takenAt: ContinuousClock.Instant

    /// The place of a visitor filed at `spot`, or nil when only Redis can tell (the visitor has
    /// reached the head, so they may have been admitted, or may have lost their place).
    public func place(of spot: QueueSpot) -> VisitorPlace? {
        switch spot.line {
        case .prequeue where !opened:
            return .prequeue(opensAt: opensAt, prequeueCount: prequeue.count, idleTimeout: rates.idleTimeout)
        case .prequeue:
            guard let rank = prequeue.rank(of: spot.score, consecutive: false) else { return nil }
            return .waiting(position: rank + 1, ahead: rank, waitingCount: max(rank + 1, prequeue.count + queue.count), rates: rates)
        case .queue:
            guard let rank = queue.rank(of: spot.score, consecutive: true) else { return nil }
            let ahead = (opened ? prequeue.count : 0) + rank
            return .waiting(position: ahead + 1, ahead: ahead, waitingCount: max(ahead + 1, prequeue.count + queue.count), rates: rates)
        }
    }
}

/// How many visitors a line holds, and the scores at up to 33 ranks spread evenly from its head
/// to its tail (every visitor's, when it holds 33 or fewer).
public struct LineMarks: Sendable, Hashable {
    public struct Mark: Sendable, Hashable {
        public var rank: Int
        public var score: Int64
    }

    public var count: Int
    public var marks: [Mark]

    public init(count: Int, marks: [Mark]) {
        self.count = count
        self.marks = marks
    }

    /// The rank (0-based) of `score`: exact at a mark, interpolated between the two marks around
    /// it otherwise; nil below the head. Past the tail (a visitor who joined since the snapshot),
    /// at the back: `consecutive` scores (join sequences) say how far back.
    func rank(of score: Int64, consecutive: Bool) -> Int? {
        guard let first = marks.first, let last = marks.last, score >= first.score else { return nil }
        if score > last.score { return last.rank + (consecutive ? Int(clamping: score - last.score) : 1) }
        var low = 0, high = marks.count - 1
        while high - low > 1 {
            let middle = (low + high) / 2
            if marks[middle].score <= score { low = middle } else { high = middle }
        }
        let below = marks[low], above = marks[high]
        if below.score == score { return below.rank }
        if above.score == score { return above.rank }
        let fraction = Double(score - below.score) / Double(above.score - below.score)
        let rank = below.rank + Int((fraction * Double(above.rank - below.rank)).rounded())
        return min(max(rank, below.rank + 1), max(below.rank + 1, above.rank - 1))
    }
}

extension WaitingRoom {
    static let snapshotScript = RedisScript(EmbeddedLua.queueSnapshot)
    /// Most signs of life one snapshot call records.
    public static let pollsPerSnapshotCall = 1_000

    /// Reads the room's snapshot, first recording `polls` (at most ``pollsPerSnapshotCall``
    /// visitors whose polls were answered from an earlier snapshot) as signs of life.
    ///
    /// - Throws: `roomNotFound`, `invalidEvent`, `unavailable`.
    public func snapshot(event: String, recordingPollsOf polls: [String] = []) async throws(QueueError) -> RoomSnapshot {
        let keys = try keys(event)
        let reply = try await run(Self.snapshotScript, event: event, keys: [
            keys.room, keys.waiting, keys.seen, keys.prequeue, keys.stats,
        ], arguments: polls.prefix(Self.pollsPerSnapshotCall).map { $0 })
        guard let fields = reply.array, fields.count == 11, let mode = fields[0].string else {
            throw .unavailable("unexpected snapshot reply \(reply)")
        }
        func line(_ count: RedisValue, _ marks: RedisValue) -> LineMarks {
            let values = marks.array ?? []
            let pairs = stride(from: 0, to: values.count - 1, by: 2).compactMap { index -> LineMarks.Mark? in
                guard let rank = values[index].int, let score = values[index + 1].string.flatMap({ Int64($0) }) else { return nil }
                return LineMarks.Mark(rank: rank, score: score)
            }
            return LineMarks(count: count.int ?? 0, marks: pairs)
        }
        return RoomSnapshot(
            mode: mode, opensAt: Int64(fields[1].int ?? 0), opened: fields[2].int == 1,
            rates: ReleaseRates(configured: fields[3].double ?? 0, observed: fields[4].double ?? 0, idleTimeout: fields[5].int ?? 0),
            queue: line(fields[6], fields[7]),
            prequeue: line(fields[8], fields[9]),
            takenAt: .now
        )
    }
}
