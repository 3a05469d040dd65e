import Crypto
import Hummingbird
import Logging
import ServiceKit

struct CreateIntentRequest: Decodable, KnownFields {
    static let knownFields = fields(of: CodingKeys.self)
    var bookingID: String
    enum CodingKeys: String, CodingKey, CaseIterable { case bookingID = "booking_id" }
}

struct ConfirmIntentRequest: Decodable, KnownFields {
    static let knownFields = fields(of: CodingKeys.self)
    var paymentID: String
    var paymentMethod: String
    enum CodingKeys: String, CodingKey, CaseIterable { case paymentID = "payment_id", paymentMethod = "payment_method" }
}

/// `/api/v1/payments` for the booking's owner, and `/internal/v1/payments/{id}/refund` for the
/// booking service (a signed identity with the `service` role).
struct PaymentRoutes: Sendable {
    let store: PaymentStore
    let flow: PaymentFlow
    let lookup: BookingLookup
    let logger: Logger

    func addRoutes(to router: Router<ISO8601RequestContext>) {
        let payments = router.group("api/v1/payments")
        payments.post("intent") { request, context -> Response in
            let user = try context.requireIdentity()
            let body = try await request.decodeBody(as: CreateIntentRequest.self, context: context)
            guard body.bookingID.isDisplayText(maxLength: 200) else { throw PaymentsError.invalidRequest("booking_id is required (at most 200 characters, no control characters)") }
            let booking = try await lookup.booking(body.bookingID, for: user)
            if let existing = try await store.intent(bookingID: booking.bookingID), existing.userID == user.userID {
                return try context.responseEncoder.encode(existing, from: request, context: context)
            }
            guard booking.status == "reserved", booking.expiresAt > .now else {
                throw PaymentsError.bookingNotPayable(booking.status == "reserved" ? "expired" : booking.status)
            }
            let (intent, created) = try await store.intent(for: booking, user: user.userID)
            guard created else { return try context.responseEncoder.encode(intent, from: request, context: context) }
            return try context.created(intent, at: "/api/v1/payments/\(intent.paymentID)", for: request)
        }
        payments.post("intent/confirm") { request, context -> PaymentIntent in
            let user = try context.requireIdentity()
            let body = try await request.decodeBody(as: ConfirmIntentRequest.self, context: context)
            guard body.paymentMethod.isDisplayText(maxLength: 64) else { throw PaymentsError.invalidRequest("payment_method is required (at most 64 characters)") }
            let intent = try await owned(body.paymentID, by: user)
            // The hold keeps its seats while this payment settles, or the payment is refused before
            // any charge. With the booking service unreachable the charge goes ahead: should its
            // success then arrive after the hold's expiry, the saga refunds it.
            if intent.status == .requiresConfirmation {
                do {
                    try await lookup.startPayment(intent.bookingID)
                } catch PaymentsError.bookingServiceUnavailable {
                    logger.warning("payment started without extending its hold: booking service unreachable", metadata: ["payment": "\(intent.paymentID)"])
                }
            }
            return try await flow.confirm(intent, paymentMethod: body.paymentMethod)
        }
        payments.get(":id") { request, context -> PaymentIntent in
            let user = try context.requireIdentity()
            return try await owned(try context.parameters.requireDecoded("id"), by: user)
        }
        router.post("internal/v1/payments/:id/refund") { request, context -> PaymentIntent in
            let caller = try context.requireIdentity()
            guard caller.roles.contains("service") else { throw PaymentsError.serviceOnly }
            let id = try context.parameters.requireDecoded("id")
            guard id.isDisplayText(maxLength: 200), let intent = try await store.intent(id: id) else { throw PaymentsError.paymentNotFound }
            return try await flow.refund(intent)
        }
    }

    /// The intent, if `user` owns it; anyone else's is "not found".
    private func owned(_ id: String, by user: GatewayIdentity) async throws -> PaymentIntent {
        guard id.isDisplayText(maxLength: 200), let intent = try await store.intent(id: id), intent.userID == user.userID else { throw PaymentsError.paymentNotFound }
        return intent
    }
}
