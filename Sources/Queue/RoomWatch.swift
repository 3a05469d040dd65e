import HeapModule

/// What a live stream last saw of its room: the versions of its places and of its pace. Both
/// come from ``RoomSnapshots``'s serials, so they are never reused: a room's watch made afresh
/// never has a version a stream holds from before.
public struct RoomVersion: Sendable, Hashable {
    /// Renewed whenever a read finds any visitor's place changed.
    public var places: UInt64
    /// Renewed whenever a read finds the room's mode, opening or configured rate changed.
    public var pace: UInt64
}

/// The streams of one room waiting for its snapshot to change.
///
/// A wait's plain facts (``Waiter``) are kept apart from what ends it (its wake), so that going
/// over a crowd's waits copies no references; their deadlines are kept in a heap, so that a tick
/// finds the waits whose time is up without going over the others.
struct RoomWatch {
    /// A waiting stream, or (no wake filed for it) one cancelled before it was registered.
    struct Waiter {
        var deadline: ContinuousClock.Instant
        /// The visitor's spot: places moving wake the stream only once the snapshot no longer
        /// places it (its visitor reached the head); nil for a wait that any move ends.
        var spot: QueueSpot?
        /// How many were ahead of the stream's visitor when it last looked.
        var ahead = 0
        /// Whether a stream waits (false for a cancellation's mark).
        fileprivate(set) var isAwaited = false

        /// How far into the spread of a change of pace this wait ends (0 to 1): by its place in
        /// line among the `behindFirst` behind the first woken at once; spread evenly by its `id`
        /// when its place is not known (a visitor in a pre-queue that has not opened), so that an
        /// opening does not wake a whole pre-queue at the spread's end.
        func shareOfSpread(id: UInt64, behindFirst: Double) -> Double {
            guard ahead != .max else { return Double(id.multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15).low % 1_024) / 1_024 }
            return min(1, Double(ahead - RoomSnapshots.paceWakeAtOnce) / behindFirst)
        }

        /// Whether places moving to `snapshot` (nil: the room is gone) end this wait.
        func movedOn(to snapshot: RoomSnapshot?) -> Bool {
            guard let spot, let snapshot else { return true }
            return snapshot.place(of: spot) == nil
        }
    }

    /// A wait's deadline as filed: soonest first.
    struct Deadline: Comparable {
        var instant: ContinuousClock.Instant
        var id: UInt64

        static func < (lhs: Deadline, rhs: Deadline) -> Bool {
            (lhs.instant, lhs.id) < (rhs.instant, rhs.id)
        }
    }

    var version: RoomVersion
    /// The snapshot of the last read that changed places, which the waits at a spot are held against.
    var snapshot: RoomSnapshot?
    private(set) var waiters: [UInt64: Waiter] = [:]
    /// What ends each wait; none for a cancellation's mark.
    private(set) var wakes: [UInt64: RoomSnapshots.Wake] = [:]
    /// Every deadline filed, soonest first. One left behind (its wait ended, or its deadline was
    /// brought forward) is dropped when it comes up; the heap is rebuilt when those outnumber
    /// the waits.
    private var deadlines = Heap<Deadline>()

    init(version: RoomVersion) {
        self.version = version
    }

    /// Whether a stream that last looked at `seen` still has nothing new to see: nothing changed
    /// at all; or, for a wait at a spot, the room's pace is the same and the snapshot still places
    /// the spot. A stream that looked at the current version waits even where the snapshot does
    /// not place its spot: Redis told it where it is (a visitor who joined after the read, into a
    /// line the read found empty), and looking again before the next read would only ask Redis
    /// again.
    func unchanged(since seen: RoomVersion, at spot: QueueSpot?) -> Bool {
        if version == seen { return true }
        guard let spot, let snapshot else { return false }
        return version.pace == seen.pace && snapshot.place(of: spot) != nil
    }

    /// Files the wait `id`; without `wake`, the mark of a wait cancelled before it was filed.
    mutating func file(_ id: UInt64, _ waiter: Waiter, wake: RoomSnapshots.Wake?) {
        var waiter = waiter
        waiter.isAwaited = wake != nil
        waiters[id] = waiter
        if let wake { wakes[id] = wake }
        deadlines.insert(Deadline(instant: waiter.deadline, id: id))
    }

    /// Takes the wait `id` out: its wake, if it had one. Nil too when it was not filed.
    @discardableResult
    mutating func remove(_ id: UInt64) -> (filed: Bool, wake: RoomSnapshots.Wake?) {
        guard waiters.removeValue(forKey: id) != nil else { return (false, nil) }
        return (true, wakes.removeValue(forKey: id))
    }

    /// Brings the deadline of the wait `id` forward to `deadline`.
    mutating func bringForward(_ id: UInt64, to deadline: ContinuousClock.Instant) {
        guard let current = waiters[id]?.deadline, deadline < current else { return }
        waiters[id]?.deadline = deadline
        deadlines.insert(Deadline(instant: deadline, id: id))
    }

    /// Takes out the waits whose deadline is `now` or earlier (marks included): the wakes of
    /// those that have one.
    mutating func takeDue(by now: ContinuousClock.Instant) -> [RoomSnapshots.Wake] {
        var due: [RoomSnapshots.Wake] = []
        while let first = deadlines.min, first.instant <= now {
            deadlines.removeMin()
            guard let waiter = waiters[first.id], waiter.deadline <= now else { continue }
            if let wake = remove(first.id).wake { due.append(wake) }
        }
        if deadlines.count > 2 * waiters.count + 1_024 {
            deadlines = Heap(waiters.map { Deadline(instant: $0.value.deadline, id: $0.key) })
        }
        return due
    }
}
