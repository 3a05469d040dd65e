import Synchronization

/// The streams of one room waiting for its snapshot to change, and how often it has changed.
struct RoomWatch {
    /// A waiting stream, or (no continuation) one cancelled before it was registered.
    struct Waiter {
        var continuation: CheckedContinuation<UInt64, Never>?
        var deadline: ContinuousClock.Instant
    }

    /// Renewed (from ``RoomSnapshots``'s serials, so never reused) whenever a read finds the room's
    /// places changed: a watch made afresh never has the version a stream holds from before.
    var version: UInt64
    var waiters: [UInt64: Waiter] = [:]
}

/// Pushing changes to live streams: a stream waits for its room's next read that changes a place
/// (``change(event:after:until:)``) instead of polling on a timer of its own. The room's snapshot
/// is read once a tick for every stream on this gateway; a read that changes nothing wakes nobody,
/// and a wait that reaches its deadline is ended by the next tick (so a paused room's streams
/// cost no timers at all).
extension RoomSnapshots {
    /// The room's version now: what a stream that has just looked at its place waits to change.
    public func version(event: String) -> UInt64 {
        watches.withLock { watches in
            if let watch = watches[event] { return watch.version }
            let watch = freshWatch()
            watches[event] = watch
            return watch.version
        }
    }

    /// How many streams wait on the room's next change now.
    func waitingStreams(event: String) -> Int {
        watches.withLock { $0[event]?.waiters.values.filter { $0.continuation != nil }.count ?? 0 }
    }

    /// Waits until the room's places change after `version`, until `deadline` has passed (seen at
    /// the next tick), or until the task is cancelled; returns the room's version then. Keeps
    /// the room's snapshot read every tick while anyone waits.
    public func change(event: String, after version: UInt64, until deadline: ContinuousClock.Instant) async -> UInt64 {
        let id = watchSerials.add(1, ordering: .relaxed).newValue
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<UInt64, Never>) in
                let now = ContinuousClock.now
                let current: UInt64? = watches.withLock { watches in
                    var watch = watches.removeValue(forKey: event) ?? freshWatch()
                    defer { watches[event] = watch }
                    if watch.waiters.removeValue(forKey: id) != nil { return watch.version }
                    guard watch.version == version, deadline > now else { return watch.version }
                    watch.waiters[id] = RoomWatch.Waiter(continuation: continuation, deadline: deadline)
                    return nil
                }
                if let current { continuation.resume(returning: current) }
            }
        } onCancel: {
            let waiting: (CheckedContinuation<UInt64, Never>, UInt64)? = watches.withLock { watches in
                var watch = watches.removeValue(forKey: event) ?? freshWatch()
                defer { watches[event] = watch }
                guard let continuation = watch.waiters.removeValue(forKey: id)?.continuation else {
                    // Not registered yet (or woken already): a mark that ends the wait at once, dropped by its deadline.
                    watch.waiters[id] = RoomWatch.Waiter(continuation: nil, deadline: deadline)
                    return nil
                }
                return (continuation, watch.version)
            }
            if let (continuation, current) = waiting { continuation.resume(returning: current) }
        }
    }

    /// A room's watch with a version no stream holds yet.
    private func freshWatch() -> RoomWatch {
        RoomWatch(version: watchSerials.add(1, ordering: .relaxed).newValue)
    }

    /// Counts a change of the room's places and wakes every stream waiting for one.
    func announceChange(event: String) {
        let woken: [CheckedContinuation<UInt64, Never>]
        let current: UInt64
        (woken, current) = watches.withLock { watches in
            guard var watch = watches.removeValue(forKey: event) else { return ([], 0) }
            watch.version = watchSerials.add(1, ordering: .relaxed).newValue
            var woken: [CheckedContinuation<UInt64, Never>] = []
            woken.reserveCapacity(watch.waiters.count)
            watch.waiters = watch.waiters.filter { _, waiter in
                guard let continuation = waiter.continuation else { return true }
                woken.append(continuation)
                return false
            }
            watches[event] = watch
            return (woken, watch.version)
        }
        for continuation in woken { continuation.resume(returning: current) }
    }

    /// The rooms with streams waiting, after waking those whose deadline is `now` or earlier (and
    /// dropping the marks of cancelled waits); rooms nobody waits on any more are forgotten.
    func watchedRooms(expiringBy now: ContinuousClock.Instant) -> Set<String> {
        var expired: [(CheckedContinuation<UInt64, Never>, UInt64)] = []
        let watched = watches.withLock { watches -> Set<String> in
            var watched = Set<String>()
            for event in Array(watches.keys) {
                guard let version = watches[event]?.version, let due = watches[event]?.waiters.filter({ $0.value.deadline <= now }) else { continue }
                if due.count == watches[event]?.waiters.count {
                    watches.removeValue(forKey: event)
                } else {
                    // In place: no copy of a crowd's waiters for the few whose time is up.
                    for id in due.keys { watches[event]?.waiters.removeValue(forKey: id) }
                    watched.insert(event)
                }
                for waiter in due.values {
                    if let continuation = waiter.continuation { expired.append((continuation, version)) }
                }
            }
            return watched
        }
        for (continuation, current) in expired { continuation.resume(returning: current) }
        return watched
    }
}

extension RoomSnapshot {
    /// Whether this snapshot places every visitor as `other` does (they may differ in when they were taken).
    func placesAlike(_ other: RoomSnapshot) -> Bool {
        var other = other
        other.takenAt = takenAt
        return other == self
    }
}
