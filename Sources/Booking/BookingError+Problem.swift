import Hummingbird
import ServiceKit

extension BookingError: ProblemConvertible {
    public var problem: ProblemDetails {
        let base = ProblemDetails.typeBase
        return switch self {
        case .eventNotFound: ProblemDetails(status: .notFound, type: base + "event-not-found", title: "No such event")
        case .zoneNotFound: ProblemDetails(status: .notFound, type: base + "zone-not-found", title: "No such zone")
        case .notOnSale: ProblemDetails(status: .conflict, type: base + "not-on-sale", title: "Not on sale", detail: "The event is not on sale now.")
        case .soldOut: ProblemDetails(status: .conflict, type: base + "sold-out", title: "Sold out", detail: "Not enough seats left in this zone.")
        case .overLimit(let detail): ProblemDetails(status: .conflict, type: base + "over-limit", title: "Seat limit reached", detail: detail.isEmpty ? nil : "The \(detail).")
        case .invalidQuantity: ProblemDetails.invalidBody(field: "quantity", detail: "Reserve between 1 and 100 seats.", slug: "invalid-quantity", title: "Invalid quantity")
        case .bookingNotFound, .notOwner: ProblemDetails(status: .notFound, type: base + "booking-not-found", title: "No such booking")
        case .alreadyConfirmed: ProblemDetails(status: .conflict, type: base + "booking-confirmed", title: "Booking confirmed", detail: "A confirmed booking cannot be cancelled here.")
        case .alreadyCancelled: ProblemDetails(status: .conflict, type: base + "booking-cancelled", title: "Booking cancelled")
        case .expired: ProblemDetails(status: .gone, type: base + "hold-expired", title: "Hold expired", detail: "The hold expired and its seats went back on sale.")
        case .unavailable: ProblemDetails(status: .serviceUnavailable, type: base + "booking-unavailable", title: "Service unavailable", headers: [.retryAfter: "1"])
        case .invalidCatalog(let field, let detail):
            ProblemDetails.invalidBody(field: field, detail: detail, status: .unprocessableContent, slug: "invalid-event", title: "Invalid event")
        case .eventExists: ProblemDetails(status: .conflict, type: base + "event-exists", title: "Event exists")
        case .forbidden: ProblemDetails(status: .forbidden, type: base + "forbidden", title: "Forbidden", detail: "Only the event's organizer or an admin may do this.")
        case .serviceOnly: ProblemDetails(status: .forbidden, type: base + "service-only", title: "Services only", detail: "Only another service of the system may do this.")
        case .webhookSignatureInvalid:
            ProblemDetails(status: .badRequest, type: base + "webhook-signature-invalid", title: "Invalid webhook signature", detail: "The webhook signature is missing, wrong or too old.")
        case .invalidWebhook: ProblemDetails(status: .badRequest, type: base + "invalid-webhook", title: "Invalid webhook", detail: "The body is not a payment event.")
        }
    }
}
