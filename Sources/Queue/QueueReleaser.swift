import Logging
import ServiceLifecycle

/// Releases visitors from every room, every `interval`, on every gateway.
///
/// No leader is elected: the release script accrues admissions from Redis time since the last
/// release by anyone, so the fleet releases at each room's rate however many gateways call.
public struct QueueReleaser: Service {
    public let room: WaitingRoom
    /// Key rings to load (until loaded) and refresh every few seconds.
    public let keys: [SigningKeyRing]
    public let interval: Duration
    public let logger: Logger

    public init(room: WaitingRoom, keys: [SigningKeyRing] = [], interval: Duration = .milliseconds(100), logger: Logger) {
        self.room = room
        self.keys = keys
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var ticks = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await releaseAll()
            ticks += 1
            for ring in keys where ring.activeKid == nil || ticks % 50 == 0 {
                do {
                    try await ring.bootstrap()
                } catch {
                    logger.warning("signing-key refresh failed", metadata: ["ring": "\(ring.keysKey)", "error": "\(error)"])
                }
            }
            try? await Task.sleep(for: interval)
        }
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
                let result = try await room.release(event: event)
                QueueMetrics.record(event: event, result)
                if result.admitted > 0 || result.abandoned > 0 {
                    logger.debug("released", metadata: [
                        "event": "\(event)", "admitted": "\(result.admitted)", "abandoned": "\(result.abandoned)",
                        "waiting": "\(result.waiting)",
                    ])
                }
            } catch {
                logger.warning("release failed", metadata: ["event": "\(event)", "error": "\(error)"])
            }
        }
    }
}
