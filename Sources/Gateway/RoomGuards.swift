import NIOCore
import Queue
import Synchronization

/// Whether each event's room holds people back, as the pass check asks on every guarded request:
/// looked up in Redis about once a second per event, one lookup at a time.
///
/// An answer is used while it is less than ``maximumAge`` old. The request that finds it older
/// than ``refreshAfter`` starts the next lookup and is answered from the one in hand, so under
/// steady traffic no request waits for Redis, and a mode change still takes effect within
/// ``maximumAge``. Requests that find no answer young enough wait for the one lookup under way.
final class RoomGuards: Sendable {
    static let maximumAge = Duration.seconds(1)
    static let refreshAfter = Duration.milliseconds(750)

    let room: WaitingRoom
    private let entries = Mutex<[String: Entry]>([:])
    private let lookupCount = Atomic<Int>(0)

    private struct Entry {
        /// The last answer, and when the lookup that found it began.
        var answer: (roomGuard: RoomGuard, checkedAt: ContinuousClock.Instant)?
        var lookup: EventLoopFuture<RoomGuard>?
    }

    init(room: WaitingRoom) {
        self.room = room
    }

    /// Lookups started so far.
    var lookups: Int { lookupCount.load(ordering: .relaxed) }

    /// The event's guard when an answer young enough is in hand (starting the next lookup on
    /// `eventLoop` when it is due), or nil.
    func current(event: String, on eventLoop: any EventLoop) -> RoomGuard? {
        let now = ContinuousClock.now
        let (answer, started) = entries.withLock { entries -> (RoomGuard?, EventLoopFuture<RoomGuard>?) in
            guard let entry = entries[event], let answer = entry.answer, now - answer.checkedAt < Self.maximumAge else { return (nil, nil) }
            guard now - answer.checkedAt >= Self.refreshAfter, entry.lookup == nil else { return (answer.roomGuard, nil) }
            let lookup = startLookup(event: event, on: eventLoop)
            entries[event]?.lookup = lookup
            return (answer.roomGuard, lookup)
        }
        if let started { record(started, event: event, checkedAt: now) }
        return answer
    }

    /// The event's guard, answered on `eventLoop`: at once from an answer in hand, otherwise once
    /// the lookup under way (started here when there is none) answers. When Redis cannot say, the
    /// room is assumed to guard, and nothing is remembered.
    func lookup(event: String, on eventLoop: any EventLoop) -> EventLoopFuture<RoomGuard> {
        if let current = current(event: event, on: eventLoop) { return eventLoop.makeSucceededFuture(current) }
        let now = ContinuousClock.now
        let (pending, started) = entries.withLock { entries -> (EventLoopFuture<RoomGuard>, Bool) in
            if let lookup = entries[event]?.lookup { return (lookup, false) }
            let lookup = startLookup(event: event, on: eventLoop)
            entries[event, default: Entry()].lookup = lookup
            return (lookup, true)
        }
        if started { record(pending, event: event, checkedAt: now) }
        return pending.hop(to: eventLoop).recover { _ in .guarded }
    }

    private func startLookup(event: String, on eventLoop: any EventLoop) -> EventLoopFuture<RoomGuard> {
        lookupCount.add(1, ordering: .relaxed)
        let room = self.room
        return eventLoop.makeFutureWithTask { () async throws(QueueError) -> RoomGuard in
            do throws(QueueError) {
                let mode = try await room.describe(event: event).configuration.mode
                return mode == .open ? .open : .guarded
            } catch .roomNotFound {
                return .absent
            }
        }
    }

    /// Keeps what `lookup` finds as the event's answer, dated from `checkedAt`; a failed lookup
    /// leaves the answer as it was.
    private func record(_ lookup: EventLoopFuture<RoomGuard>, event: String, checkedAt: ContinuousClock.Instant) {
        lookup.whenComplete { result in
            self.entries.withLock { entries in
                if case .success(let roomGuard) = result { entries[event, default: Entry()].answer = (roomGuard, checkedAt) }
                entries[event]?.lookup = nil
            }
        }
    }
}
