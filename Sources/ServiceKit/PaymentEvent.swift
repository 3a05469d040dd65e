import Foundation
import Hummingbird

/// A payment intent, Stripe-style: created for a booking's server-side total, then confirmed
/// with a payment method. Shared by both services (payments answers with it and sends it in
/// webhooks, booking reads it from them), so neither imports the other.
public struct PaymentIntent: Sendable, Hashable, Codable, ResponseEncodable {
    public enum Status: String, Sendable, Codable {
        case requiresConfirmation = "requires_confirmation"
        case processing, succeeded, failed, refunded
    }

    public var paymentID: String
    public var bookingID: String
    public var eventID: String
    public var userID: String
    public var amount: Int
    public var currency: String
    public var status: Status
    public var clientSecret: String
    public var failure: String?

    public init(
        paymentID: String, bookingID: String, eventID: String, userID: String, amount: Int, currency: String,
        status: Status, clientSecret: String, failure: String? = nil
    ) {
        self.paymentID = paymentID
        self.bookingID = bookingID
        self.eventID = eventID
        self.userID = userID
        self.amount = amount
        self.currency = currency
        self.status = status
        self.clientSecret = clientSecret
        self.failure = failure
    }

    enum CodingKeys: String, CodingKey {
        case paymentID = "payment_id", bookingID = "booking_id", eventID = "event_id", userID = "user_id"
        case amount, currency, status, clientSecret = "client_secret", failure
    }
}

/// What a payment webhook says: Stripe's event shape, trimmed to what the saga needs.
public struct PaymentEvent: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        case created = "payment_intent.created"
        case succeeded = "payment_intent.succeeded"
        case failed = "payment_intent.payment_failed"
        case refunded = "charge.refunded"
    }

    public var id: String
    public var type: Kind
    /// Unix seconds.
    public var created: Int
    public var data: PaymentIntent

    public init(id: String = "evt_" + UUID().uuidString.lowercased(), type: Kind, created: Int = Int(Date().timeIntervalSince1970), data: PaymentIntent) {
        self.id = id
        self.type = type
        self.created = created
        self.data = data
    }
}
