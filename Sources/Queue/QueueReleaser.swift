import Logging
import ServiceKit
import ServiceLifecycle

/// Releases visitors from every room, every `interval`, on every gateway.
///
/// No leader is elected: the release script accrues admissions from Redis time since the last
/// release by anyone, so the fleet releases at each room's rate however many gateways call.
public struct QueueReleaser: Service {
    /// Entries one release call may pop (and silent visitors, expired passes, ended states it may clear).
    static let batch = 250
    /// Release calls per room per tick at most.
    static let maximumRounds = 40

    public let room: WaitingRoom
    public let interval: Duration
    public let logger: Logger

    public init(room: WaitingRoom, interval: Duration = .milliseconds(100), logger: Logger) {
        self.room = room
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicWorker.run("releasing the waiting rooms", every: interval, logger: logger) { await releaseAll() }
    }

    /// One release call per room; a failing room is logged and does not stop the others.
    public func releaseAll() async {
        let events: [String]
        do {
            events = try await room.events()
        } catch {
            logger.warning("listing rooms failed", metadata: ["error": "\(error)"])
            return
        }
        for event in events {
            do {
                // Small calls, repeated while one stops at its bound: Redis serves others in between.
                var result = try await room.release(event: event, maxBatch: Self.batch)
                var rounds = 1
                while result.more, rounds < Self.maximumRounds {
                    QueueMetrics.record(event: event, result)
                    result = try await room.release(event: event, maxBatch: Self.batch)
                    rounds += 1
                }
                QueueMetrics.record(event: event, result)
                if result.admitted > 0 || result.abandoned > 0 {
                    logger.debug("released", metadata: [
                        "event": "\(event)", "admitted": "\(result.admitted)", "abandoned": "\(result.abandoned)",
                        "waiting": "\(result.waiting)",
                    ])
                }
            } catch .roomNotFound {
                // Logged once, by the gateway that drops it from the index; no one releases it again.
                if (try? await room.forget(event: event)) == true {
                    logger.info("room gone; no longer released", metadata: ["event": "\(event)"])
                }
            } catch {
                logger.warning("release failed", metadata: ["event": "\(event)", "error": "\(error)"])
            }
        }
    }
}
