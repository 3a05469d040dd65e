import Foundation
import Queue
import Redis
import Testing

@Suite("Adaptive release: the controller step in Redis")
struct AdaptiveReleaseTests {
    static let settings = AdaptiveRelease(
        minRate: 5, maxRate: 30, p99TargetMilliseconds: 200, errorBudget: 0.02, increaseStep: 5, decreaseFactor: 0.5,
        holdOffSeconds: 1, intervalSeconds: 0.5, minSamples: 10
    )
    static let healthy = UpstreamHealth(p99Milliseconds: 50, errorRate: 0, samples: 100, windowSeconds: 0)

    static func rate(_ room: WaitingRoom, _ event: String) async throws -> Double {
        try await room.describe(event: event).configuration.releaseRate
    }

    /// Waits out the fleet-wide interval between decisions.
    static func nextInterval() async throws {
        try await Task.sleep(for: .milliseconds(550))
    }

    @Test("slow p99 halves the rate, then hold-off, then additive steps up to the maximum; one decision per interval")
    func aimd() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 20, adaptive: Self.settings)) { room, event in
            var step = try await room.adapt(event: event, health: UpstreamHealth(p99Milliseconds: 500, errorRate: 0, samples: 100, windowSeconds: 0), instance: "gw-1")
            #expect(step.action == "decrease" && step.from == 20 && step.to == 10)
            #expect(step.reason == "p99 500 ms over the 200 ms target")
            #expect(try await Self.rate(room, event) == 10)
            step = try await room.adapt(event: event, health: Self.healthy, instance: "gw-2")
            #expect(step.action == "wait", "another gateway's call within the interval changes nothing")

            try await Self.nextInterval()
            step = try await room.adapt(event: event, health: Self.healthy, instance: "gw-2")
            #expect(step.action == "hold" && step.to == 10, "no increase during the hold-off")
            try await Self.nextInterval()
            step = try await room.adapt(event: event, health: Self.healthy, instance: "gw-2")
            #expect(step.action == "increase" && step.to == 15)
            for expected in [20.0, 25, 30, 30] {
                try await Self.nextInterval()
                step = try await room.adapt(event: event, health: Self.healthy, instance: "gw-1")
                #expect(step.to == expected)
            }
            #expect(step.action == "steady", "at the maximum")

            let decisions = try await room.adaptiveDecisions(event: event)
            #expect(decisions.map(\.to) == [30, 25, 20, 15, 10], "changes only, newest first")
            #expect(decisions.last?.action == "decrease" && decisions.last?.p99Milliseconds == 500 && decisions.last?.instance == "gw-1")
            #expect(decisions.first?.reason == "p99 50 ms and error rate 0.00% inside the targets")
        }
    }

    @Test("after a change nothing is judged until the window holds only responses at the new rate")
    func settle() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 20, adaptive: Self.settings)) { room, event in
            let slow = UpstreamHealth(p99Milliseconds: 900, errorRate: 0, samples: 100, windowSeconds: 1)
            #expect(try await room.adapt(event: event, health: slow, instance: "gw").to == 10)
            try await Self.nextInterval()
            let step = try await room.adapt(event: event, health: slow, instance: "gw")
            #expect(step.action == "settle" && step.to == 10, "the 1 s window (and the second being filled) still shows the old rate")
            try await Task.sleep(for: .milliseconds(1_500))
            #expect(try await room.adapt(event: event, health: slow, instance: "gw").to == 5, "judged again once settled")
        }
    }

    @Test("errors over budget decrease, too few responses change nothing, the rate never leaves its bounds")
    func errorsSamplesAndBounds() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 8, adaptive: Self.settings)) { room, event in
            var step = try await room.adapt(event: event, health: UpstreamHealth(p99Milliseconds: 20, errorRate: 0.05, samples: 200, windowSeconds: 0), instance: "gw")
            #expect(step.action == "decrease" && step.to == 5, "8 × 0.5 stops at the minimum 5")
            #expect(step.reason == "error rate 5.00% over the 2.00% budget")
            try await Self.nextInterval()
            step = try await room.adapt(event: event, health: UpstreamHealth(p99Milliseconds: 900, errorRate: 0, samples: 200, windowSeconds: 0), instance: "gw")
            #expect(step.action == "steady" && step.to == 5, "already at the minimum")
            try await Self.nextInterval()
            step = try await room.adapt(event: event, health: UpstreamHealth(p99Milliseconds: 900, errorRate: 0.5, samples: 9, windowSeconds: 0), instance: "gw")
            #expect(step.action == "idle" && step.to == 5, "9 responses are too few to judge")
        }
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 100, adaptive: Self.settings)) { room, event in
            let step = try await room.adapt(event: event, health: UpstreamHealth(p99Milliseconds: nil, errorRate: 0, samples: 0, windowSeconds: 0), instance: "gw")
            #expect(step.action == "clamp" && step.to == 30, "a rate set above the maximum is brought inside")
        }
    }

    @Test("a rate set by hand switches adaptation off; so does a PUT without it; a paused room is not adapted")
    func manualControl() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 20, adaptive: Self.settings)) { room, event in
            try await room.patch(event: event, RoomConfigurationPatch(maxActive: 50))
            #expect(try await room.describe(event: event).configuration.adaptive == Self.settings, "other settings leave it on")
            try await room.patch(event: event, RoomConfigurationPatch(mode: .paused))
            #expect(try await room.adapt(event: event, health: Self.healthy, instance: "gw").action == "off")
            try await room.patch(event: event, RoomConfigurationPatch(mode: .queue, releaseRate: 12))
            let configuration = try await room.describe(event: event).configuration
            #expect(configuration.adaptive == nil && configuration.releaseRate == 12 && configuration.maxActive == 50)
            #expect(try await room.adapt(event: event, health: Self.healthy, instance: "gw").action == "off")
            #expect(try await Self.rate(room, event) == 12)

            try await room.patch(event: event, RoomConfigurationPatch(releaseRate: 9, adaptive: .on(Self.settings)))
            #expect(try await room.describe(event: event).configuration.adaptive == Self.settings, "a rate sent with settings is their start")
            try await room.configure(event: event, RoomConfiguration(mode: .queue, releaseRate: 9))
            #expect(try await room.describe(event: event).configuration.adaptive == nil)
        }
    }

    @Test("settings out of range are refused, naming the field")
    func validation() async throws {
        let cases: [(AdaptiveRelease, String)] = [
            (AdaptiveRelease(minRate: 10, maxRate: 5, p99TargetMilliseconds: 100), "adaptive.max_rate"),
            (AdaptiveRelease(minRate: -1, maxRate: 5, p99TargetMilliseconds: 100), "adaptive.min_rate"),
            (AdaptiveRelease(minRate: 1, maxRate: 5, p99TargetMilliseconds: 0), "adaptive.p99_target_ms"),
            (AdaptiveRelease(minRate: 1, maxRate: 5, p99TargetMilliseconds: 100, decreaseFactor: 1.5), "adaptive.decrease_factor"),
            (AdaptiveRelease(minRate: 1, maxRate: 5, p99TargetMilliseconds: 100, intervalSeconds: 0.01), "adaptive.interval_s"),
            (AdaptiveRelease(minRate: 1, maxRate: 5, p99TargetMilliseconds: 100, errorBudget: 2), "adaptive.error_budget"),
        ]
        for (settings, field) in cases {
            do {
                try RoomConfiguration(adaptive: settings).validate()
                Issue.record("settings with a bad \(field) accepted")
            } catch .invalidConfiguration(let named, _) {
                #expect(named == field)
            } catch {
                Issue.record("\(error)")
            }
        }
        let decoded = try JSONDecoder().decode(AdaptiveRelease.self, from: Data(#"{"min_rate": 2, "max_rate": 42, "p99_target_ms": 300}"#.utf8))
        #expect(decoded.increaseStep == 2 && decoded.decreaseFactor == 0.7 && decoded.intervalSeconds == 5 && decoded.routes == nil)
    }
}
