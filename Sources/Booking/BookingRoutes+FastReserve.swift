import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import ServiceKit

extension BookingRoutes {
    static let reservePath = "/api/v1/bookings/reserve"
    private static let decoder = JSONDecoder()

    /// `POST /api/v1/bookings/reserve` answered on the connection's event loop (a ``FastRoute``):
    /// the gateway's signature, the body, `booking_reserve.lua` and the new booking or the problem,
    /// as the router's route answers them. Left to the router, which answers them in its own
    /// words: a request without an identity, a body that does not decode, and a retry whose
    /// Idempotency-Key names a booking that exists (the script changes nothing the second time).
    func fastReserve(signer: GatewaySigner) -> FastRoute {
        FastRoute(method: .post, path: Self.reservePath) { request, eventLoop in
            let user: GatewayIdentity
            do {
                guard let verified = try GatewayIdentity.verified(request.head, body: request.body, service: ServiceName.booking, signer: signer) else {
                    return eventLoop.makeSucceededFuture(.router)
                }
                user = verified
            } catch {
                return eventLoop.makeSucceededFuture(.problem(error as? ProblemDetails ?? .status(.unauthorized), path: Self.reservePath))
            }
            guard let body = ReserveRequest(plainJSON: request.body) ?? Self.decodedAsRouter(request.body) else {
                return eventLoop.makeSucceededFuture(.router)
            }
            let key = request.head.headers.value(of: Self.idempotencyKey.rawName)
            let id = "\(body.eventID):\(Self.bookingID(user: user.userID, idempotencyKey: key))"
            let answer = eventLoop.makePromise(of: FastAnswer.self)
            inventory.reserve(event: body.eventID, zone: body.zoneID, user: user.userID, quantity: body.quantity, bookingID: id, on: eventLoop)
                .whenComplete { result in
                    switch result {
                    case .success(let hold) where !hold.isNew:
                        answer.succeed(.router)
                    case .success(let hold):
                        let booking = BookingBody(
                            bookingID: id, eventID: body.eventID, zoneID: body.zoneID, quantity: body.quantity, status: "reserved",
                            expiresAt: hold.expiresAt, total: hold.total, currency: hold.currency
                        )
                        answer.succeed(.response(.created, [.contentType: "application/json; charset=utf-8", .location: "/api/v1/bookings/\(id)"], booking.json()))
                    case .failure(let error):
                        answer.succeed(.problem((error as? BookingError ?? .unavailable("\(error)")).problem, path: Self.reservePath))
                    }
                }
            return answer.futureResult
        }
    }

    /// A body the plain reader does not take, decoded as the router would decode it; nil leaves it
    /// to the router, which then answers: a key given twice, a field the request does not take
    /// (``ProblemDetails/refusal(ofBody:as:)``), bytes that do not decode.
    private static func decodedAsRouter(_ body: ByteBuffer) -> ReserveRequest? {
        let data = Data(body.readableBytesView)
        guard ProblemDetails.refusal(ofBody: data, as: ReserveRequest.self) == nil else { return nil }
        return try? decoder.decode(ReserveRequest.self, from: data)
    }
}
