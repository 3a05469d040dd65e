import HTTPTypes
import Queue
import ServiceKit
import Tokens

/// Where every gateway error becomes an HTTP problem: the one mapping of typed errors to statuses.
enum GatewayProblem {
    static func make(
        _ status: HTTPResponse.Status, _ slug: String, _ title: String, _ detail: String?, headers: HTTPFields = [:], field: String? = nil
    ) -> ProblemDetails {
        ProblemDetails.project(status, slug, title, detail: detail, headers: headers, field: field)
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
        case .invalidConfiguration(let field, let detail):
            GatewayProblem.make(.unprocessableContent, "invalid-room-configuration", "Invalid room configuration", detail, field: field)
        case .proofRequired(let event, let difficulty):
            GatewayProblem.make(
                .forbidden, "proof-of-work-required", "Proof of work required",
                "This waiting room asks new visitors for a proof of work: GET /api/v1/queue/\(event)/challenge, find a nonce such that SHA-256 of '<challenge>~<nonce>' starts with \(difficulty) zero bits, and join again with header Queue-Proof: <challenge>~<nonce>. The waiting-room page does this for you."
            )
        case .proofInvalid(let reason):
            GatewayProblem.make(.forbidden, "proof-of-work-invalid", "Proof of work refused", "Proof of work refused: \(reason). Get a new challenge and solve it.")
        case .unavailable:
            GatewayProblem.make(.serviceUnavailable, "queue-unavailable", "Queue unavailable", "The waiting room is briefly unavailable; retry shortly.", headers: [.retryAfter: "1"])
        }
    }
}

extension RouteTableReloadError: ProblemConvertible {
    public var problem: ProblemDetails {
        switch self {
        case .noSource:
            GatewayProblem.make(
                .conflict, "route-table-not-reloadable", "No route file",
                "This gateway was started without a route file (--routes or GATEWAY_ROUTES), so there is no table to read again."
            )
        case .invalid(let reason):
            GatewayProblem.make(
                .unprocessableContent, "route-table-invalid", "Route table not reloaded", "The table in force stays: \(reason)"
            )
        }
    }
}

extension TokenError {
    var explanation: String {
        switch self {
        case .malformed: "The token is not a JWT."
        case .algorithmNotAllowed(let alg): "The algorithm '\(alg.prefix(20))' is not accepted for this token."
        case .wrongType: "That token is of another kind."
        case .unknownKey: "The token was signed by an unknown key."
        case .invalidSignature: "The token signature does not verify."
        case .expired: "The token has expired."
        case .notYetValid: "The token is not valid yet."
        case .wrongAudience: "The token is for another audience."
        case .wrongIssuer: "The token was issued by someone else."
        case .alreadyUsed: "The token has already been used."
        }
    }
}

/// A guarded route refused the request's queue pass (or it had none): 403.
struct QueuePassRejection: Error, ProblemConvertible {
    enum Reason: Sendable {
        /// The pass does not verify, or was spent.
        case token(TokenError)
        /// The admission it stood for is over; the browser's pass cookie for the event is cleared.
        case revoked(event: String)
        /// It was issued to, or first used by, someone else.
        case anotherVisitor
    }

    /// Nil when no pass was presented.
    var reason: Reason?

    init(_ reason: Reason?) {
        self.reason = reason
    }

    init(token error: TokenError) {
        self.reason = .token(error)
    }

    var problem: ProblemDetails {
        switch reason {
        case nil:
            GatewayProblem.make(
                .forbidden, "queue-pass-required", "Queue pass required",
                "This route needs a queue pass for the event (header Queue-Pass or cookie br_pass_<event>): join the waiting room first."
            )
        case .token(let error):
            GatewayProblem.make(.forbidden, "queue-pass-required", "Queue pass required", "Queue pass refused: \(error.explanation)")
        case .revoked(let event):
            GatewayProblem.make(
                .forbidden, "queue-pass-revoked", "Queue pass revoked",
                "The admission this pass stood for is over: its visitor left or was removed, or the waiting room was closed. Join the waiting room again.",
                headers: [.setCookie: "br_pass_\(event)=; Max-Age=0; Path=/"]
            )
        case .anotherVisitor:
            GatewayProblem.make(
                .forbidden, "queue-pass-not-yours", "Queue pass of another visitor",
                "A pass serves only its visitor: the account it was issued to or first used with (send its access token), or the visitor ticket it was issued to."
            )
        }
    }
}

/// The request's access token was missing or refused: 401 with a Bearer challenge.
struct AccessTokenRejection: Error, ProblemConvertible {
    /// Nil when no token was presented.
    var reason: TokenError?

    var problem: ProblemDetails {
        let challenge = reason.map { _ in "Bearer realm=\"booking-rush\", error=\"invalid_token\"" } ?? "Bearer realm=\"booking-rush\""
        return GatewayProblem.make(
            .unauthorized, "unauthorized", "Unauthorized",
            reason.map { "Access token refused: \($0.explanation)" } ?? "This route needs an access token (Authorization: Bearer <token>).",
            headers: [.wwwAuthenticate: challenge]
        )
    }
}

/// The user is known but lacks a role the route requires: 403.
struct RoleRequired: Error, ProblemConvertible {
    var roles: [String]

    var problem: ProblemDetails {
        GatewayProblem.make(.forbidden, "forbidden", "Forbidden", "This route needs one of the roles: \(roles.joined(separator: ", ")).")
    }
}

extension ProxyError: ProblemConvertible {
    public var problem: ProblemDetails {
        switch self {
        case .upstreamUnreachable(let route):
            GatewayProblem.make(.badGateway, "upstream-unreachable", "Bad gateway", "The '\(route)' service could not be reached.")
        case .upstreamTimeout(let route):
            GatewayProblem.make(.gatewayTimeout, "upstream-timeout", "Gateway timeout", "The '\(route)' service did not answer in time.")
        case .upstreamFailed(let route):
            GatewayProblem.make(.badGateway, "upstream-failed", "Bad gateway", "The '\(route)' service failed to answer.")
        case .gatewayFull(let route):
            GatewayProblem.make(
                .serviceUnavailable, "gateway-full", "Service unavailable",
                "The gateway holds as many connections as it can; the '\(route)' service was not called. Retry shortly.", headers: [.retryAfter: "1"]
            )
        case .upstreamBusy(let route):
            GatewayProblem.make(
                .serviceUnavailable, "upstream-busy", "Service busy",
                "The '\(route)' service has as many requests from this gateway as its route allows; it was not called. Retry shortly.",
                headers: [.retryAfter: "1"]
            )
        case .bodyTooLarge(let limit):
            GatewayProblem.make(.contentTooLarge, "body-too-large", "Content too large", "Request bodies on this route are limited to \(limit) bytes.")
        case .loopDetected(let route):
            GatewayProblem.make(
                .init(code: 508, reasonPhrase: "Loop Detected"), "proxy-loop", "Proxy loop",
                "The '\(route)' route's request came back to this gateway: its upstream leads to the gateway itself."
            )
        }
    }
}

extension RequestHeadError: ProblemConvertible {
    public var problem: ProblemDetails {
        switch self {
        case .hostInvalid:
            GatewayProblem.make(.badRequest, "host-invalid", "Invalid Host", "An HTTP/1.1 request carries exactly one Host field, holding a host name or address and an optional port.")
        case .transferCodingUnsupported:
            GatewayProblem.make(.notImplemented, "transfer-coding-unsupported", "Transfer coding not supported", "Request bodies are sent with Content-Length or chunked alone.")
        case .transferCodingInHTTP10:
            GatewayProblem.make(.badRequest, "malformed-request", "Malformed request", "An HTTP/1.0 request carries no Transfer-Encoding.")
        case .headTooLarge:
            GatewayProblem.make(.requestHeaderFieldsTooLarge, "head-too-large", "Request head too large", "The request line and header fields are limited to 80 KiB.")
        case .malformed:
            GatewayProblem.make(.badRequest, "malformed-request", "Malformed request", "The request is not valid HTTP/1.1.")
        case .pathAboveRoot:
            GatewayProblem.make(.badRequest, "malformed-request", "Malformed request", "The path's `..` segments climb above the root.")
        case .fragment:
            GatewayProblem.make(.badRequest, "malformed-request", "Malformed request", "A request target carries no fragment (`#`).")
        }
    }
}

extension IdempotencyError: ProblemConvertible {
    public var problem: ProblemDetails {
        switch self {
        case .missingKey:
            GatewayProblem.make(.badRequest, "idempotency-key-missing", "Idempotency-Key required", "This route requires an Idempotency-Key header.")
        case .malformedKey:
            GatewayProblem.make(.badRequest, "idempotency-key-malformed", "Malformed Idempotency-Key", "An Idempotency-Key is 1–255 printable ASCII characters.")
        case .inFlight(let retryAfter):
            GatewayProblem.make(.conflict, "idempotency-key-in-use", "Request in progress", "A request with this Idempotency-Key is still being processed.", headers: [.retryAfter: "\(retryAfter)"])
        case .payloadMismatch:
            GatewayProblem.make(.unprocessableContent, "idempotency-key-reused", "Idempotency-Key reused", "This Idempotency-Key was used with a different request.")
        case .unavailable:
            GatewayProblem.make(.serviceUnavailable, "idempotency-unavailable", "Service unavailable", "Idempotency cannot be guaranteed right now; retry shortly.", headers: [.retryAfter: "1"])
        }
    }
}

/// The client is over a rate limit (429), or the limiter is down and the rule fails closed (503).
struct RateLimited: Error, ProblemConvertible {
    var retryAfter: Int?
    var headers: HTTPFields

    var problem: ProblemDetails {
        var fields = headers
        guard let retryAfter else {
            fields[.retryAfter] = "1"
            return GatewayProblem.make(.serviceUnavailable, "rate-limiter-unavailable", "Service unavailable", "Rate limits cannot be checked right now; retry shortly.", headers: fields)
        }
        fields[.retryAfter] = "\(retryAfter)"
        return GatewayProblem.make(.tooManyRequests, "rate-limited", "Too many requests", "Rate limit exceeded; retry after \(retryAfter) s.", headers: fields)
    }
}

/// Every registration slot of this gateway is taken: 503 with `Retry-After`.
struct RegistrationBusy: Error, ProblemConvertible {
    var problem: ProblemDetails {
        GatewayProblem.make(
            .serviceUnavailable, "registration-busy", "Registrations busy",
            "Too many registrations are being processed right now; retry shortly.", headers: [.retryAfter: "1"]
        )
    }
}

extension AccountError: ProblemConvertible {
    public var problem: ProblemDetails {
        switch self {
        case .invalidEmail:
            GatewayProblem.make(.badRequest, "invalid-email", "Invalid email", "That is not an email address.")
        case .weakPassword:
            GatewayProblem.make(.badRequest, "weak-password", "Weak password", "Passwords are 10 to 128 characters.")
        case .emailTaken:
            GatewayProblem.make(.conflict, "email-taken", "Email taken", "An account with this email exists.")
        case .invalidCredentials:
            GatewayProblem.make(.unauthorized, "invalid-credentials", "Invalid credentials", "Wrong email or password.", headers: [.wwwAuthenticate: "Bearer realm=\"booking-rush\""])
        case .invalidRefreshToken:
            GatewayProblem.make(.unauthorized, "invalid-refresh-token", "Invalid refresh token", "The refresh token is unknown, expired, revoked or already used. Log in again.")
        case .unknownRole(let role):
            GatewayProblem.make(.unprocessableContent, "unknown-role", "Unknown role", "'\(role.prefix(40))' is not one of customer, organizer, admin.")
        case .notFound:
            GatewayProblem.make(.notFound, "account-not-found", "No such account", nil)
        }
    }
}

extension AmbiguousEventSource: ProblemConvertible {
    public var problem: ProblemDetails {
        switch place {
        case .body(let field):
            .repeatedField(field)
        case .header(let name):
            GatewayProblem.make(.badRequest, "invalid-event", "Invalid event id", "The header `\(name)` is given more than once, with different values.")
        case .query(let name):
            GatewayProblem.make(.badRequest, "invalid-event", "Invalid event id", "The query parameter `\(name)` is given more than once, with different values.")
        }
    }
}
