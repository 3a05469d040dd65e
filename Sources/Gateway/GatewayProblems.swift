import HTTPTypes
import Queue
import ServiceKit

/// Where every gateway error becomes an HTTP problem: the one mapping of typed errors to statuses.
enum GatewayProblem {
    static let base = "https://booking-rush.dev/problems/"

    static func make(_ status: HTTPResponse.Status, _ slug: String, _ title: String, _ detail: String?, headers: HTTPFields = [:]) -> ProblemDetails {
        ProblemDetails(status: status, type: base + slug, title: title, detail: detail, headers: headers)
    }
}

extension QueueError: ProblemConvertible {
    public var problem: ProblemDetails {
        switch self {
        case .roomNotFound(let event):
            GatewayProblem.make(.notFound, "room-not-found", "No waiting room", "Event '\(event)' has no waiting room.")
        case .roomClosed(let event):
            GatewayProblem.make(.conflict, "room-closed", "Waiting room closed", "The waiting room of '\(event)' accepts no one at the moment.")
        case .notInQueue:
            GatewayProblem.make(.notFound, "not-in-queue", "Not in the queue", "No place in this queue for this visitor: join first (the visitor ticket goes in the br_visitor cookie or the Visitor-Ticket header).")
        case .placeLost:
            GatewayProblem.make(.gone, "place-lost", "Place lost", "The place was given up after the visitor stopped polling. Join again to queue at the back.")
        case .passExpired:
            GatewayProblem.make(.gone, "pass-expired", "Queue pass expired", "The admission has expired. Join again to queue at the back.")
        case .invalidEvent(let event):
            GatewayProblem.make(.badRequest, "invalid-event", "Invalid event id", "'\(event.prefix(80))' is not an event id (1–64 of A–Z a–z 0–9 - _ .).")
        case .invalidConfiguration(let detail):
            GatewayProblem.make(.unprocessableContent, "invalid-room-configuration", "Invalid room configuration", detail)
        case .unavailable:
            GatewayProblem.make(.serviceUnavailable, "queue-unavailable", "Queue unavailable", "The waiting room is briefly unavailable; retry shortly.", headers: [.retryAfter: "1"])
        }
    }
}

extension QueuePassError: ProblemConvertible {
    public var problem: ProblemDetails {
        let detail: String = switch self {
        case .malformed: "The queue pass is not a JWT."
        case .algorithmNotAllowed(let alg): "Queue passes are ES256; '\(alg.prefix(20))' is not accepted."
        case .wrongType: "That token is not a queue pass."
        case .unknownKey: "The queue pass was signed by an unknown key."
        case .invalidSignature: "The queue pass signature does not verify."
        case .expired: "The queue pass has expired."
        case .notYetValid: "The queue pass is not valid yet."
        case .wrongAudience: "The queue pass is for another event."
        case .wrongIssuer: "The queue pass was issued by someone else."
        case .alreadyUsed: "The queue pass has already been used."
        }
        return GatewayProblem.make(.forbidden, "invalid-queue-pass", "Queue pass required", detail)
    }
}
