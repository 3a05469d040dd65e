@testable import Queue
import Synchronization
import Testing

@Suite("A room's waits, kept by deadline")
struct RoomWatchTests {
    /// Wakes that record which waits they ended, in order.
    final class Woken: Sendable {
        private let ids = Mutex<[UInt64]>([])
        var all: [UInt64] { ids.withLock { $0 } }

        func wake(_ id: UInt64) -> RoomSnapshots.Wake {
            { _ in self.ids.withLock { $0.append(id) } }
        }
    }

    static func wakeAll(_ wakes: [RoomSnapshots.Wake]) {
        for wake in wakes { wake(RoomVersion(places: 0, pace: 0)) }
    }

    @Test("a tick takes out only the waits whose time is up, soonest first; ended waits and earlier deadlines leave nothing behind")
    func dueWaitsOnly() {
        let start = ContinuousClock.now
        let woken = Woken()
        var watch = RoomWatch(version: RoomVersion(places: 1, pace: 1))
        for (id, seconds) in [(1, 3), (2, 1), (3, 2), (4, 4)] as [(UInt64, Int)] {
            watch.file(id, RoomWatch.Waiter(deadline: start + .seconds(seconds)), wake: woken.wake(id))
        }
        #expect(watch.wakes.count == 4)
        Self.wakeAll(watch.takeDue(by: start + .milliseconds(1_500)))
        #expect(woken.all == [2], "only the wait due at 1 s")

        #expect(watch.remove(1).wake != nil, "a wait ended by its room's change")
        #expect(watch.remove(1).filed == false, "and gone")
        watch.bringForward(4, to: start + .milliseconds(1_600))
        watch.bringForward(3, to: start + .seconds(9))
        Self.wakeAll(watch.takeDue(by: start + .milliseconds(1_700)))
        #expect(woken.all == [2, 4], "a deadline brought forward ends the wait then; a later one never moves a deadline back")

        Self.wakeAll(watch.takeDue(by: start + .seconds(60)))
        #expect(woken.all == [2, 4, 3], "the ended wait is not woken by its old deadline, nor the earlier wait by its first")
        #expect(watch.waiters.isEmpty && watch.wakes.isEmpty)
    }

    @Test("a cancellation's mark is dropped by its deadline without a wake, and counts as no stream")
    func marks() {
        let start = ContinuousClock.now
        let woken = Woken()
        var watch = RoomWatch(version: RoomVersion(places: 1, pace: 1))
        watch.file(7, RoomWatch.Waiter(deadline: start + .seconds(1)), wake: nil)
        watch.file(8, RoomWatch.Waiter(deadline: start + .seconds(1)), wake: woken.wake(8))
        #expect(watch.wakes.count == 1)
        #expect(watch.waiters[7]?.isAwaited == false && watch.waiters[8]?.isAwaited == true)
        Self.wakeAll(watch.takeDue(by: start + .seconds(2)))
        #expect(woken.all == [8])
        #expect(watch.waiters.isEmpty)
    }

    @Test("deadlines left behind by a crowd of ended waits are dropped: the next due wait still comes up, once")
    func crowdOfEndedWaits() {
        let start = ContinuousClock.now
        let woken = Woken()
        var watch = RoomWatch(version: RoomVersion(places: 1, pace: 1))
        for id in 0..<UInt64(5_000) {
            watch.file(id, RoomWatch.Waiter(deadline: start + .seconds(10) + .milliseconds(Int(id))), wake: woken.wake(id))
        }
        for id in 0..<UInt64(5_000) { watch.remove(id) }
        watch.file(9_999, RoomWatch.Waiter(deadline: start + .seconds(20)), wake: woken.wake(9_999))
        Self.wakeAll(watch.takeDue(by: start + .seconds(1)))
        #expect(woken.all.isEmpty)
        Self.wakeAll(watch.takeDue(by: start + .seconds(30)))
        #expect(woken.all == [9_999])
        #expect(watch.waiters.isEmpty)
    }
}
