/// Why a booking operation was refused.
public enum BookingError: Error, Sendable, Hashable {
    case eventNotFound
    case notOnSale
    case zoneNotFound
    case soldOut
    /// The user's held and confirmed seats would pass the event's limit.
    case overLimit(String)
    case invalidQuantity
    case bookingNotFound
    case notOwner
    case alreadyConfirmed
    case alreadyCancelled
    case expired
    case unavailable(String)
    /// An event or zone description the catalog refuses: the field at fault (a dotted path such
    /// as `zones.0.capacity`, empty when no one field is) and why.
    case invalidCatalog(field: String, String)
    /// The event exists already.
    case eventExists
    /// The user may not change this event.
    case forbidden
    /// Only another service of the system (a signed identity with the `service` role) may do this.
    case serviceOnly
    /// A payments webhook whose signature is missing, wrong or too old.
    case webhookSignatureInvalid
    /// A signed payments webhook whose body is not a payment event.
    case invalidWebhook

    /// The error a script's error reply stands for.
    init(code: String, message: String) {
        switch code {
        case "NOEVENT": self = .eventNotFound
        case "NOTONSALE": self = .notOnSale
        case "NOZONE": self = .zoneNotFound
        case "SOLDOUT": self = .soldOut
        case "OVERLIMIT": self = .overLimit(String(message.drop { $0 != " " }.dropFirst()))
        case "NOBOOKING": self = .bookingNotFound
        case "NOTOWNER": self = .notOwner
        case "CONFIRMED": self = .alreadyConfirmed
        case "CANCELLED": self = .alreadyCancelled
        case "EXPIRED": self = .expired
        default: self = .unavailable(message)
        }
    }
}
