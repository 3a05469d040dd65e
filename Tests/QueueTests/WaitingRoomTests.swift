import Crypto
import Foundation
import Queue
import Redis
import Testing

@Suite("Waiting room against a live Redis")
struct WaitingRoomTests {
    @Test("10,000 visitors joining at once each get a distinct position")
    func concurrentJoins() async throws {
        // The burst queues 10,000 scripts on two connections: on a loaded machine (CI runs the
        // browser suites beside this one) the last reply comes later than the default 2 s timeout.
        // What is checked is the positions, not the speed.
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .paused), commandTimeout: .seconds(30)) { room, event in
            let positions = try await withThrowingTaskGroup(of: Int?.self) { group in
                for index in 0..<10_000 {
                    group.addTask { try await room.join(event: event, visitor: "v\(index)").place.position }
                }
                return try await group.reduce(into: [Int?]()) { $0.append($1) }
            }
            #expect(positions.allSatisfy { $0 != nil })
            #expect(Set(positions.compactMap { $0 }) == Set(1...10_000))
        }
    }

    @Test("joining twice returns the same place; leaving frees it")
    func joinTwiceAndLeave() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .paused)) { room, event in
            let first = try await room.join(event: event, visitor: "alice")
            _ = try await room.join(event: event, visitor: "bob")
            let again = try await room.join(event: event, visitor: "alice")
            #expect(first.joined)
            #expect(!again.joined)
            #expect(first.place.position == 1 && again.place.position == 1)
            #expect(try await room.status(event: event, visitor: "bob").position == 2)
            #expect(try await room.leave(event: event, visitor: "alice"))
            #expect(try await room.status(event: event, visitor: "bob").position == 1)
            await #expect(throws: QueueError.notInQueue) { try await room.status(event: event, visitor: "alice") }
            #expect(try await room.leave(event: event, visitor: "alice") == false)
        }
    }

    @Test("unknown rooms, closed rooms and bad event ids are refused")
    func refusals() async throws {
        let room = WaitingRoom(redis: try QueueTestSupport.redis())
        let missing = QueueTestSupport.uniqueEvent("missing")
        await #expect(throws: QueueError.roomNotFound(event: missing)) { try await room.join(event: missing, visitor: "v") }
        await #expect(throws: QueueError.invalidEvent("bad event/id")) { try await room.join(event: "bad event/id", visitor: "v") }
        _ = try await QueueTestSupport.withRoom(RoomConfiguration(mode: .closed)) { room, event in
            await #expect(throws: QueueError.roomClosed(event: event)) { try await room.join(event: event, visitor: "v") }
        }
        await room.redis.shutdown()
    }

    @Test("an open room admits at once; a paused room admits nobody")
    func openAndPaused() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .open, passTTL: 60)) { room, event in
            let joined = try await room.join(event: event, visitor: "v")
            #expect(joined.place.admission?.number == 1)
        }
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .paused, releaseRate: 1000)) { room, event in
            for index in 0..<10 { _ = try await room.join(event: event, visitor: "v\(index)") }
            for _ in 0..<5 {
                #expect(try await room.release(event: event).admitted == 0)
                try await Task.sleep(for: .milliseconds(20))
            }
            try await room.setMode(event: event, .queue)
            try await Task.sleep(for: .milliseconds(50))
            let first = try await room.release(event: event).admitted
            try await Task.sleep(for: .milliseconds(50))
            let second = try await room.release(event: event).admitted
            #expect(first + second == 10, "resumed, the room releases everyone waiting at 1000/s")
        }
    }

    @Test("with release_rate R, three concurrent callers admit 10·R ± 2 % in 10 s")
    func releaseRateAcrossCallers() async throws {
        let rate = 200.0
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: rate, passTTL: 600, idleTimeout: 600)) { room, event in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<10 {
                    group.addTask {
                        for index in 0..<300 { _ = try await room.join(event: event, visitor: "w\(worker)-\(index)") }
                    }
                }
                try await group.waitForAll()
            }
            let start = ContinuousClock.now
            _ = try await room.release(event: event)
            let deadline = start + .seconds(10)
            let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
                for caller in 0..<3 {
                    group.addTask {
                        var admitted = 0
                        try await Task.sleep(for: .milliseconds(7 * caller))
                        while ContinuousClock.now < deadline {
                            admitted += try await room.release(event: event).admitted
                            try await Task.sleep(for: .milliseconds(25))
                        }
                        return admitted
                    }
                }
                return try await group.reduce(0, +)
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let expected = rate * seconds
            #expect(abs(Double(admitted) - expected) <= expected * 0.02, "admitted \(admitted), expected \(expected) over \(seconds) s")
            #expect(try await room.stats(event: event).releasedTotal == admitted)
        }
    }

    @Test("a new release rate takes effect at the next release call")
    func rateChange() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 10, passTTL: 600, idleTimeout: 600)) { room, event in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask { for index in 0..<250 { _ = try await room.join(event: event, visitor: "w\(worker)-\(index)") } }
                }
                try await group.waitForAll()
            }
            for _ in 0..<10 {
                _ = try await room.release(event: event)
                try await Task.sleep(for: .milliseconds(50))
            }
            _ = try await room.release(event: event)
            let changedAt = ContinuousClock.now
            try await room.configure(event: event, RoomConfiguration(mode: .queue, releaseRate: 200, passTTL: 600, idleTimeout: 600))
            var admitted = 0
            while ContinuousClock.now - changedAt < .seconds(1) {
                try await Task.sleep(for: .milliseconds(50))
                admitted += try await room.release(event: event).admitted
            }
            let elapsed = ContinuousClock.now - changedAt
            let expected = 200 * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            #expect(abs(Double(admitted) - expected) <= expected * 0.1, "admitted \(admitted) in the second after the change, expected about \(expected)")
        }
    }

    @Test("admission order equals join order: 0 inversions")
    func fifo() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 2_000)) { room, event in
            let visitors = (0..<500).map { "v\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for visitor in visitors { group.addTask { _ = try await room.join(event: event, visitor: visitor) } }
                try await group.waitForAll()
            }
            var sequence: [String: Int] = [:]
            for visitor in visitors {
                sequence[visitor] = try await QueueTestSupport.sequence(of: visitor, event: event, redis: room.redis)
            }
            #expect(try await QueueTestSupport.drain(room, event: event) == visitors.count)
            var admitted: [(number: Int, visitor: String)] = []
            for visitor in visitors {
                let admission = try #require(try await room.status(event: event, visitor: visitor).admission)
                admitted.append((admission.number, visitor))
            }
            let joinOrderOfAdmissions = admitted.sorted { $0.number < $1.number }.map { sequence[$0.visitor]! }
            #expect(QueueTestSupport.inversions(joinOrderOfAdmissions) == 0)
        }
    }

    @Test("the pre-queue is drawn from a seed committed in advance; the revealed seed reproduces positions and admissions")
    func prequeue() async throws {
        let opensAt = Int64(Date().timeIntervalSince1970 * 1000) + 4_000
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 5_000, opensAt: opensAt)) { room, event in
            let early = (0..<200).map { "early\($0)" }
            let places = try await withThrowingTaskGroup(of: VisitorPlace.self) { group in
                for visitor in early { group.addTask { try await room.join(event: event, visitor: visitor).place } }
                return try await group.reduce(into: [VisitorPlace]()) { $0.append($1) }
            }
            for place in places {
                guard case .prequeue = place else {
                    Issue.record("expected a pre-queue place, got \(place)")
                    return
                }
            }
            let before = try await room.describe(event: event)
            #expect(before.seed == nil, "the seed is not known before opening")
            let commitment = try #require(before.seedCommitment)
            while Int64(Date().timeIntervalSince1970 * 1000) < opensAt + 50 { try await Task.sleep(for: .milliseconds(50)) }
            _ = try await room.release(event: event)

            let description = try await room.describe(event: event)
            let seed = try #require(description.seed)
            #expect(WaitingRoom.commitment(toSeed: seed) == commitment, "the revealed seed is the one committed to")
            #expect(description.opened)
            #expect(description.prequeueSize == early.count)
            let expected = early.sorted { sha1Hex("\(seed):\($0)") < sha1Hex("\(seed):\($1)") }
            #expect(expected != early, "the draw changed the order")
            for (index, visitor) in expected.enumerated() {
                guard case .waiting(let position, _, let count, _) = try await room.status(event: event, visitor: visitor) else {
                    Issue.record("\(visitor) is not waiting after the opening")
                    return
                }
                #expect(position == index + 1 && count == early.count, "\(visitor): position \(position) of \(count)")
            }

            let late = (0..<50).map { "late\($0)" }
            for visitor in late {
                guard case .waiting(let position, _, _, _) = try await room.join(event: event, visitor: visitor).place else {
                    Issue.record("\(visitor) is not waiting")
                    return
                }
                #expect(position > early.count, "later arrivals queue behind the whole pre-queue")
            }
            try await QueueTestSupport.drain(room, event: event)
            var admissionOrder: [(Int, String)] = []
            for visitor in early + late {
                let admission = try #require(try await room.status(event: event, visitor: visitor).admission)
                admissionOrder.append((admission.number, visitor))
            }
            let order = admissionOrder.sorted { $0.0 < $1.0 }.map(\.1)
            #expect(Array(order.prefix(early.count)) == expected)
            #expect(Array(order.suffix(late.count)) == late, "later arrivals follow in join order")
        }
    }

    @Test("visitors who stop polling lose their place and are never admitted")
    func abandonment() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .paused, releaseRate: 1_000, idleTimeout: 5)) { room, event in
            for visitor in ["keeps-polling", "walks-away", "also-polls"] { _ = try await room.join(event: event, visitor: visitor) }
            let until = ContinuousClock.now + .milliseconds(5_600)
            while ContinuousClock.now < until {
                _ = try await room.status(event: event, visitor: "keeps-polling")
                _ = try await room.status(event: event, visitor: "also-polls")
                try await Task.sleep(for: .milliseconds(500))
            }
            try await room.setMode(event: event, .queue)
            try await Task.sleep(for: .milliseconds(20))
            try await QueueTestSupport.drain(room, event: event)
            #expect(try await room.status(event: event, visitor: "keeps-polling").admission != nil)
            #expect(try await room.status(event: event, visitor: "also-polls").admission != nil)
            await #expect(throws: QueueError.placeLost) { try await room.status(event: event, visitor: "walks-away") }
            let stats = try await room.stats(event: event)
            #expect(stats.abandonedTotal == 1)
            #expect(stats.releasedTotal == 2)
        }
    }

    @Test("max_active is never exceeded; a freed slot is refilled")
    func maxActive() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 5_000, maxActive: 10)) { room, event in
            for index in 0..<40 { _ = try await room.join(event: event, visitor: "v\(index)") }
            for _ in 0..<20 {
                let result = try await room.release(event: event)
                #expect(result.active <= 10)
                try await Task.sleep(for: .milliseconds(10))
            }
            let stats = try await room.stats(event: event)
            #expect(stats.activePasses == 10)
            #expect(stats.waiting == 30)
            for index in 0..<3 { try await room.leave(event: event, visitor: "v\(index)") }
            try await Task.sleep(for: .milliseconds(20))
            let refill = try await room.release(event: event)
            #expect(refill.admitted == 3)
            #expect(refill.active == 10)
        }
    }

    @Test("stats report waiting, passes, totals, rates and the oldest wait")
    func stats() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 100)) { room, event in
            for index in 0..<20 { _ = try await room.join(event: event, visitor: "v\(index)") }
            try await Task.sleep(for: .milliseconds(120))
            _ = try await room.release(event: event)
            try await Task.sleep(for: .milliseconds(100))
            let released = try await room.release(event: event).admitted
            let stats = try await room.stats(event: event)
            #expect(stats.releasedTotal == released)
            #expect(stats.activePasses == released)
            #expect(stats.waiting == 20 - released)
            #expect(stats.configuredRate == 100)
            #expect(stats.observedRate > 0)
            #expect(stats.oldestWaitMilliseconds >= 200)
        }
    }

    @Test("ETA uses the observed rate when there is one")
    func eta() {
        #expect(ReleaseRates(configured: 10, observed: 0).eta(ahead: 99) == 10)
        #expect(ReleaseRates(configured: 10, observed: 20).eta(ahead: 99) == 5)
        #expect(ReleaseRates(configured: 0, observed: 0).eta(ahead: 5) == nil)
    }

    @Test("a live stream looks as often as a poll would, but while nothing is released only up to its longest wait, within the idle timeout")
    func streamLooks() {
        let releasing = ReleaseRates(configured: 10, observed: 0, idleTimeout: 60)
        #expect(releasing.lookAfter(ahead: 399, longest: .seconds(15)) == .milliseconds(releasing.pollAfterMilliseconds(ahead: 399)))
        #expect(releasing.lookAfter(ahead: 399, longest: .seconds(15)) == .seconds(10), "a quarter of a 40 s ETA")
        let paused = ReleaseRates(configured: 0, observed: 0, idleTimeout: 60)
        #expect(paused.pollAfterMilliseconds(ahead: 399) == 2_500, "a poll cannot be woken: it asks every 2.5 s")
        #expect(paused.lookAfter(ahead: 399, longest: .seconds(15)) == .seconds(15))
        let impatient = ReleaseRates(configured: 0, observed: 0, idleTimeout: 30)
        #expect(impatient.lookAfter(ahead: 399, longest: .seconds(15)) == .seconds(10), "a third of the idle timeout")
    }

    @Test("room settings are validated")
    func validation() {
        #expect(throws: QueueError.self) { try RoomConfiguration(releaseRate: -1).validate() }
        #expect(throws: QueueError.self) { try RoomConfiguration(releaseRate: .nan).validate() }
        #expect(throws: QueueError.self) { try RoomConfiguration(passTTL: 1).validate() }
        #expect(throws: QueueError.self) { try RoomConfiguration(idleTimeout: 0).validate() }
        #expect(throws: QueueError.self) { try RoomConfiguration(targetURL: "javascript:alert(1)").validate() }
        #expect(throws: Never.self) { try RoomConfiguration(targetURL: "/events/1/seats").validate() }
        #expect(throws: QueueError.self, "2^63 - 1 came back from Redis as -2^63") { try RoomConfiguration(opensAt: Int64.max).validate() }
        #expect(throws: QueueError.self) { try RoomConfiguration(opensAt: 253_402_300_800_000).validate() }
        #expect(throws: Never.self) { try RoomConfiguration(opensAt: 253_402_300_799_999).validate() }
        #expect(throws: QueueError.self, "a release rate of 1e-300 made an ETA past Int.max") { try RoomConfiguration(releaseRate: 1e-300).validate() }
        #expect(throws: Never.self) { try RoomConfiguration(releaseRate: 0.001).validate() }
        #expect(throws: Never.self) { try RoomConfiguration(releaseRate: 0).validate() }
    }

    @Test("an ETA stays a number of seconds however slow the release, and so does the next poll")
    func etaAtATinyRate() {
        for rate in [1e-300, 1e-12, Double.leastNonzeroMagnitude] {
            let rates = ReleaseRates(configured: rate, observed: 0, idleTimeout: 60)
            #expect(rates.eta(ahead: 10_000_000) == ReleaseRates.longestETA)
            #expect(rates.pollAfterMilliseconds(ahead: 10_000_000) == 10_000)
            #expect(rates.lookAfter(ahead: 10_000_000, longest: .seconds(15)) == .seconds(10))
        }
    }
}

func sha1Hex(_ text: String) -> String {
    Insecure.SHA1.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
}
