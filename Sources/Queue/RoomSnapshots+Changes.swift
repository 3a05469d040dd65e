import Synchronization

/// Pushing changes to live streams: a stream waits for its room's next read that changes what it
/// shows (``change(event:after:until:at:ahead:)``) instead of polling on a timer of its own. The
/// room's snapshot is read once a tick for every stream on this gateway; a read that changes
/// nothing wakes nobody, and a wait that reaches its deadline is ended by the next tick (so a
/// paused room's streams cost no timers at all).
extension RoomSnapshots {
    /// The room's version now: what a stream that has just looked at its place waits to change.
    public func version(event: String) -> RoomVersion {
        watches.withLock { watches in
            if let watch = watches[event] { return watch.version }
            let watch = freshWatch()
            watches[event] = watch
            return watch.version
        }
    }

    /// How many streams wait on the room's next change now.
    func waitingStreams(event: String) -> Int {
        watches.withLock { $0[event]?.wakes.count ?? 0 }
    }

    /// What ends a wait: called with the room's version then, on whichever thread ends it.
    public typealias Wake = @Sendable (RoomVersion) -> Void

    /// Waits until the room changes after `version`, until `deadline` has passed (seen at the
    /// next tick), or until the task is cancelled; returns the room's version then. Without a
    /// `spot`, any move of the line is a change. For a visitor filed at `spot`, with `ahead`
    /// ahead of them when they last looked (`Int.max` when not known), a change is the
    /// snapshot no longer placing the spot (they reached the head: admitted, or lost) or a
    /// change of the room's pace; a change of pace ends the wait at once when fewer than
    /// ``paceWakeAtOnce`` are ahead, else within ``paceWakeSpread``. Keeps the room's snapshot
    /// read every tick while anyone waits.
    public func change(
        event: String, after version: RoomVersion, until deadline: ContinuousClock.Instant, at spot: QueueSpot? = nil, ahead: Int = 0
    ) async -> RoomVersion {
        let id = watchSerials.add(1, ordering: .relaxed).newValue
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<RoomVersion, Never>) in
                register(id, event: event, after: version, until: deadline, at: spot, ahead: ahead) { continuation.resume(returning: $0) }
            }
        } onCancel: {
            let waiting: (Wake, RoomVersion)? = watches.withLock { watches in
                updateWatch(of: event, in: &watches) { watch in
                    guard let wake = watch.remove(id).wake else {
                        // Not registered yet (or woken already): a mark that ends the wait at once, dropped by its deadline.
                        watch.file(id, RoomWatch.Waiter(deadline: deadline), wake: nil)
                        return nil
                    }
                    return (wake, watch.version)
                }
            }
            if let (wake, current) = waiting { wake(current) }
        }
    }

    /// The wait of ``change(event:after:until:at:ahead:)`` without a task: `wake` is called once,
    /// with the room's version, when it ends (at once, before this returns, when the room has
    /// already changed); a wait that ``stopWatching(event:id:)`` ends first is never woken.
    /// Returns the wait's id.
    @discardableResult
    public func watch(
        event: String, after version: RoomVersion, until deadline: ContinuousClock.Instant, at spot: QueueSpot? = nil, ahead: Int = 0,
        _ wake: @escaping Wake
    ) -> UInt64 {
        let id = watchSerials.add(1, ordering: .relaxed).newValue
        register(id, event: event, after: version, until: deadline, at: spot, ahead: ahead, wake)
        return id
    }

    /// Ends the wait `id` without waking it; nothing when it has ended already.
    public func stopWatching(event: String, id: UInt64) {
        watches.withLock { watches in
            guard watches[event]?.waiters[id] != nil else { return }
            _ = updateWatch(of: event, in: &watches) { watch in watch.remove(id) }
        }
    }

    /// Files the wait `id` on its room, or wakes it at once when there is nothing to wait for (the
    /// room changed since `version`, the deadline passed, or its cancellation's mark is there).
    private func register(
        _ id: UInt64, event: String, after version: RoomVersion, until deadline: ContinuousClock.Instant, at spot: QueueSpot?, ahead: Int,
        _ wake: @escaping Wake
    ) {
        let now = ContinuousClock.now
        let current: RoomVersion? = watches.withLock { watches in
            updateWatch(of: event, in: &watches) { watch in
                if watch.remove(id).filed { return watch.version }
                guard watch.unchanged(since: version, at: spot), deadline > now else { return watch.version }
                watch.file(id, RoomWatch.Waiter(deadline: deadline, spot: spot, ahead: ahead), wake: wake)
                return nil
            }
        }
        if let current { wake(current) }
    }

    /// Runs `body` on the room's watch (made afresh when it has none). The watch is taken out of
    /// the map and put back: changed in place through the map's copy, a crowd's waiters would be
    /// copied whole at every registration.
    private func updateWatch<Result>(of event: String, in watches: inout [String: RoomWatch], _ body: (inout RoomWatch) -> Result) -> Result {
        var watch = watches.removeValue(forKey: event) ?? freshWatch()
        defer { watches[event] = watch }
        return body(&watch)
    }

    /// A room's watch with versions no stream holds yet.
    private func freshWatch() -> RoomWatch {
        let serial = watchSerials.add(1, ordering: .relaxed).newValue
        return RoomWatch(version: RoomVersion(places: serial, pace: serial))
    }

    /// How long after a change of pace the streams waiting for one are woken, beyond the first
    /// ``paceWakeAtOnce`` in line: spread over this much in the order of the line, tick by tick,
    /// so that a crowd far from the head is not woken in one burst (which would hold up
    /// everything else the gateway runs, its releaser and the admissions it announces included).
    static let paceWakeSpread = Duration.seconds(3)
    /// Streams with fewer visitors than this ahead are woken by a change of pace at once.
    static let paceWakeAtOnce = 1_000

    /// Counts a change of the room's places to `snapshot` (nil: the room is gone), and of its
    /// pace when `pace`, and wakes the streams waiting for it: at once those without a spot and
    /// those whose spot the snapshot no longer places; on a change of pace, at once those with
    /// fewer than ``paceWakeAtOnce`` ahead of them, the others over the next ``paceWakeSpread``
    /// in the order of the line (by their deadline, which the ticks end).
    func announceChange(event: String, snapshot: RoomSnapshot?, pace: Bool) {
        let now = ContinuousClock.now
        let behindFirst = Double(max(1, (snapshot.map { $0.queue.count + $0.prequeue.count } ?? 0) - Self.paceWakeAtOnce))
        let (woken, current): ([Wake], RoomVersion) = watches.withLock { watches in
            guard var watch = watches.removeValue(forKey: event) else { return ([], RoomVersion(places: 0, pace: 0)) }
            let serial = watchSerials.add(1, ordering: .relaxed).newValue
            watch.version.places = serial
            if pace { watch.version.pace = serial }
            watch.snapshot = snapshot
            // Changed after the pass over the waits: changed during it, they would be copied whole.
            var ended: [UInt64] = []
            var spread: [(id: UInt64, due: ContinuousClock.Instant)] = []
            for (id, waiter) in watch.waiters where waiter.isAwaited {
                if waiter.movedOn(to: snapshot) || (pace && waiter.ahead < Self.paceWakeAtOnce) {
                    ended.append(id)
                } else if pace {
                    spread.append((id, now + Self.paceWakeSpread * waiter.shareOfSpread(id: id, behindFirst: behindFirst)))
                }
            }
            let woken = ended.compactMap { watch.remove($0).wake }
            for (id, due) in spread { watch.bringForward(id, to: due) }
            watches[event] = watch
            return (woken, watch.version)
        }
        for wake in woken { wake(current) }
    }

    /// The rooms with streams waiting, after waking those whose deadline is `now` or earlier (and
    /// dropping the marks of cancelled waits); rooms nobody waits on any more are forgotten.
    func watchedRooms(expiringBy now: ContinuousClock.Instant) -> Set<String> {
        var expired: [(Wake, RoomVersion)] = []
        let watched = watches.withLock { watches -> Set<String> in
            var watched = Set<String>()
            for event in Array(watches.keys) {
                guard var watch = watches.removeValue(forKey: event) else { continue }
                for wake in watch.takeDue(by: now) { expired.append((wake, watch.version)) }
                if !watch.waiters.isEmpty {
                    watches[event] = watch
                    watched.insert(event)
                }
            }
            return watched
        }
        for (wake, current) in expired { wake(current) }
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

    /// Whether this snapshot's room runs at the pace of `other`'s: the same mode, opening,
    /// configured rate and idle timeout (the observed rate and the lines may differ).
    func paceAlike(_ other: RoomSnapshot) -> Bool {
        mode == other.mode && opensAt == other.opensAt && opened == other.opened
            && rates.configured == other.rates.configured && rates.idleTimeout == other.rates.idleTimeout
    }
}
