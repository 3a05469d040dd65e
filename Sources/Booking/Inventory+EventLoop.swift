import NIOCore
import Redis
import ServiceKit

extension Inventory {
    /// ``reserve(event:zone:user:quantity:bookingID:)`` from a channel handler: the script runs on
    /// the connection `eventLoop` pins, and the hold (or a ``BookingError``) comes back on it.
    public func reserve(event: String, zone: String, user: String, quantity: Int, bookingID: String, on eventLoop: any EventLoop) -> EventLoopFuture<Hold> {
        guard (1...100).contains(quantity) else { return eventLoop.makeFailedFuture(BookingError.invalidQuantity) }
        let hold = eventLoop.makePromise(of: Hold.self)
        redis.run(
            Self.reserveScript, keys: reserveKeys(event: event, zone: zone, bookingID: bookingID), arguments: [bookingID, user, zone, quantity], on: eventLoop
        ) { result in
            switch result {
            case .success(let reply):
                hold.complete(catching: { () throws(BookingError) in try Self.hold(reply, event: event, quantity: quantity, bookingID: bookingID) })
            case .failure(let error):
                let failure = Self.bookingError(error)
                BookingMetrics.reservation(event: event, outcome: BookingMetrics.outcome(of: failure))
                hold.fail(failure)
            }
        }
        return hold.futureResult
    }
}
