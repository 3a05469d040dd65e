import Redis
import Synchronization

/// The keys `booking_reserve.lua` takes, made once per event and zone: a reservation then only
/// adds its booking id to the booking key. At most ``capacity`` pairs are kept (they come from
/// request bodies, so a flood of made-up ids empties the cache rather than growing it).
final class ReserveKeyCache: Sendable {
    static let capacity = 1024

    private struct EventZone: Hashable {
        var event: String
        var zone: String
    }

    let space: RedisKeySpace
    private let made = Mutex<[EventZone: [String]]>([:])

    init(space: RedisKeySpace) {
        self.space = space
    }

    /// Sale, zone, user seats, booking, holds and stream keys for `bookingID` in `event` and `zone`.
    func keys(event: String, zone: String, bookingID: String) -> [String] {
        let pair = EventZone(event: event, zone: zone)
        var keys = made.withLock { $0[pair] } ?? {
            let event = BookingKeys(event: event, in: space)
            let keys = [event.sale, event.zone(zone), event.userSeats, event.booking(""), event.holds, event.stream]
            made.withLock { made in
                if made.count >= Self.capacity { made.removeAll(keepingCapacity: true) }
                made[pair] = keys
            }
            return keys
        }()
        keys[3] += bookingID
        return keys
    }

    /// How many event and zone pairs are kept.
    var count: Int { made.withLock { $0.count } }
}
