import Logging
import ServiceKit
import ServiceLifecycle

/// Samples every room's figures into its history for the console's charts of the sale so far.
/// Every gateway offers a sample per room every ``WaitingRoom/historyInterval`` seconds;
/// `room_history.lua` keeps one per interval for the fleet.
public struct RoomHistoryRecorder: Service {
    public let room: WaitingRoom
    public let logger: Logger

    public init(room: WaitingRoom, logger: Logger) {
        self.room = room
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicWorker.run("recording room history", every: .seconds(WaitingRoom.historyInterval), logger: logger) { await recordAll() }
    }

    /// Offers one sample for every room; a failing room is logged at debug level and skipped.
    public func recordAll() async {
        guard let events = try? await room.events() else { return }
        for event in events {
            do {
                try await room.recordHistory(event: event, stats: try await room.stats(event: event))
            } catch {
                logger.debug("room history sample failed", metadata: ["event": "\(event)", "error": "\(error)"])
            }
        }
    }
}
