import NIOCore
import Redis
import ServiceKit

extension Inventory {
    /// ``reserve(event:zone:user:quantity:bookingID:)`` from a channel handler: the script runs on
    /// the connection `eventLoop` pins, and the hold (or a ``BookingError``) comes back on it.
    public func reserve(event: String, zone: String, user: String, quantity: Int, bookingID: String, on eventLoop: any EventLoop) -> EventLoopFuture<Hold> {
        guard (1...100).contains(quantity) else { return eventLoop.makeFailedFuture(BookingError.invalidQuantity) }
        return redis.run(
            Self.reserveScript, keys: reserveKeys(event: event, zone: zone, bookingID: bookingID), arguments: [bookingID, user, zone, quantity], on: eventLoop
        )
        .flatMapErrorThrowing { error in
            let failure = Self.bookingError(RedisClient.normalize(error))
            BookingMetrics.reservation(event: event, outcome: BookingMetrics.outcome(of: failure))
            throw failure
        }
        .flatMapThrowing { reply in try Self.hold(reply, event: event, quantity: quantity, bookingID: bookingID) }
    }
}
