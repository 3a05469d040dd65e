import Logging
import ServiceKit
import ServiceLifecycle

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
        var elapsed = Duration.zero
        await PeriodicWorker.run("signing-key refresh", every: .seconds(1), logger: logger) { () async -> Void in
            for ring in rings where ring.activeKid == nil || elapsed >= interval {
                do {
                    try await ring.bootstrap()
                } catch {
                    logger.warning("signing-key refresh failed", metadata: ["ring": "\(ring.keysKey)", "error": "\(error)"])
                }
            }
            if elapsed >= interval { elapsed = .zero }
            elapsed += .seconds(1)
        }
    }
}
