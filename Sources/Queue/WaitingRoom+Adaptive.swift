import EmbeddedResources
import Foundation
import Redis

/// How the upstream a room guards answered over the measured window.
public struct UpstreamHealth: Sendable, Hashable, Codable {
    /// p99 latency in milliseconds; nil when nothing was measured.
    public var p99Milliseconds: Double?
    /// Share (0–1) of responses that were 5xx or timeouts.
    public var errorRate: Double
    /// Responses measured.
    public var samples: Int
    /// The last complete seconds the measurement covers.
    public var windowSeconds: Int

    public init(p99Milliseconds: Double?, errorRate: Double, samples: Int, windowSeconds: Int) {
        self.p99Milliseconds = p99Milliseconds
        self.errorRate = errorRate
        self.samples = samples
        self.windowSeconds = windowSeconds
    }

    enum CodingKeys: String, CodingKey {
        case p99Milliseconds = "p99_ms", errorRate = "error_rate", samples, windowSeconds = "window_s"
    }
}

/// One step of the adaptive controller, as `room_adapt.lua` took it.
public struct AdaptiveStep: Sendable, Hashable {
    /// `gone`, `off`, `wait`, `settle`, `idle`, `hold`, `steady`, `increase`, `decrease` or `clamp`.
    public var action: String
    public var from: Double
    public var to: Double
    public var reason: String
}

/// A change of release rate the controller made, with what caused it.
public struct AdaptiveDecision: Sendable, Hashable, Codable {
    /// Unix time in milliseconds (Redis time).
    public var at: Int64
    public var from: Double
    public var to: Double
    /// `increase`, `decrease` or `clamp`.
    public var action: String
    public var reason: String
    public var p99Milliseconds: Double?
    public var errorRate: Double
    public var samples: Int
    /// The gateway that took the decision.
    public var instance: String

    enum CodingKeys: String, CodingKey {
        case at, from, to, action, reason, p99Milliseconds = "p99_ms", errorRate = "error_rate", samples, instance
    }
}

extension WaitingRoom {
    static let adaptScript = RedisScript(EmbeddedLua.roomAdapt)
    /// Decisions kept per room.
    public static let decisionsKept = 100

    /// Offers one controller step for the room with the upstream's `health`: at most one call
    /// per interval fleet-wide changes anything, and none before the health's window covers
    /// only the current rate (`room_adapt.lua`).
    public func adapt(event: String, health: UpstreamHealth, instance: String) async throws(QueueError) -> AdaptiveStep {
        let keys = try keys(event)
        let reply = try await run(Self.adaptScript, event: event, keys: [keys.room, keys.adaptiveLog], arguments: [
            health.p99Milliseconds ?? -1, health.errorRate, health.samples, instance, health.windowSeconds,
        ])
        guard let fields = reply.array, fields.count == 4, let action = fields[0].string else {
            throw .unavailable("unexpected adapt reply \(reply)")
        }
        return AdaptiveStep(
            action: action, from: fields[1].string.flatMap(Double.init) ?? 0, to: fields[2].string.flatMap(Double.init) ?? 0,
            reason: fields[3].string ?? ""
        )
    }

    /// The room's latest rate changes by the controller, newest first.
    public func adaptiveDecisions(event: String, limit: Int = 20) async throws(QueueError) -> [AdaptiveDecision] {
        let keys = try keys(event)
        do {
            return try await redis.jsonList(keys.adaptiveLog, from: 0, through: max(0, min(limit, Self.decisionsKept) - 1))
        } catch {
            throw .unavailable("\(error)")
        }
    }
}
