import Hummingbird
import ServiceKit

/// Why a payments request was refused.
public enum PaymentsError: Error, Sendable, Hashable {
    case bookingNotFound
    case bookingNotPayable(String)
    case paymentNotFound
    case notRefundable(PaymentIntent.Status)
    case invalidRequest(String)
    case bookingServiceUnavailable
    /// Only another service (a signed identity with the `service` role) may do this.
    case serviceOnly
}

extension PaymentsError: ProblemConvertible {
    public var problem: ProblemDetails {
        let base = ProblemDetails.typeBase
        return switch self {
        case .bookingNotFound: ProblemDetails(status: .notFound, type: base + "booking-not-found", title: "No such booking")
        case .bookingNotPayable(let status):
            ProblemDetails(status: .conflict, type: base + "booking-not-payable", title: "Booking not payable", detail: "The booking is \(status); only a live reservation can be paid.")
        case .paymentNotFound: ProblemDetails(status: .notFound, type: base + "payment-not-found", title: "No such payment")
        case .notRefundable(let status):
            ProblemDetails(status: .conflict, type: base + "not-refundable", title: "Not refundable", detail: "The payment is \(status.rawValue).")
        case .invalidRequest(let detail): ProblemDetails(status: .badRequest, type: base + "invalid-request", title: "Invalid request", detail: detail)
        case .bookingServiceUnavailable:
            ProblemDetails(status: .serviceUnavailable, type: base + "booking-unavailable", title: "Booking service unavailable", headers: [.retryAfter: "1"])
        case .serviceOnly:
            ProblemDetails(status: .forbidden, type: base + "service-only", title: "Services only", detail: "Only another service of the system may do this.")
        }
    }
}
