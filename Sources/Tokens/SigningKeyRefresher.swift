import Logging
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Keeps key rings loaded and fresh, as a service of its own: a ring that could not be loaded
/// at start (Redis down) is retried every second, and every ring reloads every `interval`, so a
/// rotation on one gateway reaches the others.
public struct SigningKeyRefresher: Service {
    public let rings: [SigningKeyRing]
    public let interval: Duration
    public let logger: Logger

    public init(rings: [SigningKeyRing], interval: Duration = .seconds(5), logger: Logger) {
        self.rings = rings
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let schedule = ReloadSchedule(interval: interval)
        await PeriodicWorker.run("signing-key refresh", every: .seconds(1), logger: logger) { [rings, logger] () async -> Void in
            let reloadAll = schedule.due()
            for ring in rings where ring.activeKid == nil || reloadAll {
                do {
                    try await ring.bootstrap()
                } catch {
                    logger.warning("signing-key refresh failed", metadata: ["ring": "\(ring.keysKey)", "error": "\(error)"])
                }
            }
        }
    }
}

/// When every ring is next reloaded, shared by the passes of one refresher.
private final class ReloadSchedule: Sendable {
    let interval: Duration
    let next: Mutex<ContinuousClock.Instant>

    init(interval: Duration) {
        self.interval = interval
        self.next = Mutex(.now + interval)
    }

    /// Whether a full reload is due now; if so, the next one is an interval away.
    func due() -> Bool {
        next.withLock { next in
            guard ContinuousClock.now >= next else { return false }
            next = .now + interval
            return true
        }
    }
}
