import Logging
import Redis
import ServiceKit
import ServiceLifecycle

/// Samples every event's sales per zone into its history for the console's chart of the sale
/// so far. Every booking instance offers a sample per event every
/// ``Inventory/salesHistoryInterval`` seconds; `booking_sales_history.lua` keeps one per
/// interval for the fleet.
public struct SalesHistoryRecorder: Service {
    let inventory: Inventory
    let logger: Logger

    public init(inventory: Inventory, logger: Logger) {
        self.inventory = inventory
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicWorker.run("recording sales history", every: .seconds(Inventory.salesHistoryInterval), logger: logger) { await recordAll() }
    }

    /// Offers one sample for every event with inventory; a failing event is logged at debug level.
    public func recordAll() async {
        guard let events = try? await inventory.redis.setMembers(BookingKeys.events(in: inventory.redis.keySpace)) else { return }
        for event in events {
            do {
                try await inventory.recordSales(event: event)
            } catch {
                logger.debug("sales history sample failed", metadata: ["event": "\(event)", "error": "\(error)"])
            }
        }
    }
}
