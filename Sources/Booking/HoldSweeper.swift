import Logging
import Redis
import ServiceKit
import ServiceLifecycle

/// Returns the seats of expired holds, for every event, every `interval`. Any number of booking
/// instances may sweep at once: each hold is released exactly once (by `booking_release.lua`).
public struct HoldSweeper: Service {
    let inventory: Inventory
    let interval: Duration
    let logger: Logger

    public init(inventory: Inventory, interval: Duration = .seconds(1), logger: Logger) {
        self.inventory = inventory
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicWorker.run("sweeping expired holds", every: interval, logger: logger) { await sweepAll() }
    }

    /// One sweep over every event with inventory; a failing event is logged and skipped.
    public func sweepAll() async {
        let events: [String]
        do {
            events = try await inventory.redis.setMembers(BookingKeys.events(in: inventory.redis.keySpace))
        } catch {
            logger.warning("listing events failed", metadata: ["error": "\(error)"])
            return
        }
        for event in events {
            do {
                let released = try await inventory.sweep(event: event) { orphan in
                    logger.warning("a hold without its booking was dropped from the expiry index", metadata: ["event": "\(event)", "booking": "\(orphan)"])
                }
                if released > 0 { logger.info("expired holds released", metadata: ["event": "\(event)", "holds": "\(released)"]) }
            } catch {
                logger.warning("sweeping holds failed", metadata: ["event": "\(event)", "error": "\(error)"])
            }
        }
    }
}
