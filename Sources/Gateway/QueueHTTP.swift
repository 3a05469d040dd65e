import Foundation
import HTTPTypes
import Hummingbird
import Queue
import Tokens

/// The JSON of a visitor's place, as join, status and the event stream send it.
struct QueuePlaceBody: ResponseEncodable, Sendable, Equatable {
    var status: String
    var position: Int?
    var ahead: Int?
    var etaSeconds: Int?
    var pollAfterMilliseconds: Int?
    var opensAt: Int64?
    var ticket: String?
    var pass: String?
    var passExpiresAt: Int64?
    var targetURL: String?
    /// The signed record of the visitor's spot (join only), for polls answered from a snapshot.
    var place: String?

    enum CodingKeys: String, CodingKey {
        case status, position, ahead, etaSeconds = "eta_seconds", pollAfterMilliseconds = "poll_after_ms"
        case opensAt = "opens_at", ticket, pass, passExpiresAt = "pass_expires_at", targetURL = "target_url", place
    }
}

/// What the queue routes share: the room, the pass keys, the visitor tickets.
struct QueueHTTP: Sendable {
    static let visitorCookie = "br_visitor"
    static let ticketHeader = HTTPField.Name("Visitor-Ticket")!
    static let proofHeader = HTTPField.Name("Queue-Proof")!
    static let placeHeader = HTTPField.Name("Queue-Place")!

    let room: WaitingRoom
    let keys: SigningKeyRing
    let tickets: VisitorTickets
    let challenges: JoinChallenges
    let tokens: AccessTokens?
    let snapshots: RoomSnapshots
    let secureCookies: Bool

    /// The visitor a request speaks for: a logged-in user (`u:<id>`, from a valid access token),
    /// otherwise a genuine ticket from the header or the cookie.
    func visitor(of request: Request) async throws -> (visitor: String, ticket: String?)? {
        if let tokens, let identity = try await tokens.identity(of: request) {
            return ("u:\(identity.userID)", nil)
        }
        return ticketVisitor(of: request)
    }

    /// The visitor named by a genuine ticket from the header or the cookie.
    func ticketVisitor(of request: Request) -> (visitor: String, ticket: String?)? {
        for ticket in [request.headers[Self.ticketHeader], request.cookies[Self.visitorCookie]?.value].compactMap({ $0 }) {
            if let visitor = tickets.visitor(from: ticket) { return (visitor, Optional(ticket)) }
        }
        return nil
    }

    /// The visitor a request speaks for, or a new one with a fresh ticket (and its cookie to set).
    /// `allowTokens` lets a logged-in user queue as themselves.
    func visitorOrNew(_ request: Request, allowTokens: Bool) async throws -> (visitor: String, ticket: String?, cookie: Cookie?) {
        if let existing = allowTokens ? try await visitor(of: request) : ticketVisitor(of: request) {
            return (existing.visitor, existing.ticket, nil)
        }
        let issued = tickets.issue()
        return (issued.visitor, issued.ticket, ticketCookie(issued.ticket))
    }

    /// The request's proof of work (header `Queue-Proof`), verified; nil when it has none.
    func proof(of request: Request, event: String) throws(QueueError) -> JoinProof? {
        guard let solution = request.headers[Self.proofHeader] else { return nil }
        return try challenges.verify(solution, event: event)
    }

    /// The cookie that carries a visitor ticket for browsers.
    func ticketCookie(_ ticket: String) -> Cookie {
        Cookie(name: Self.visitorCookie, value: ticket, maxAge: 86_400, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    /// The cookie that carries a queue pass to guarded routes.
    func passCookie(event: String, pass: String, expiresAt: Int64) -> Cookie {
        let maxAge = max(1, Int(expiresAt / 1000 - Int64(Date().timeIntervalSince1970)))
        return Cookie(name: "br_pass_\(event)", value: pass, maxAge: maxAge, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    /// The body for a place; an admitted visitor gets a freshly signed pass.
    func body(event: String, visitor: String, place: VisitorPlace, ticket: String? = nil) async throws -> QueuePlaceBody {
        switch place {
        case .waiting(let position, let ahead, _, let rates):
            return QueuePlaceBody(
                status: "waiting", position: position, ahead: ahead, etaSeconds: rates.eta(ahead: ahead),
                pollAfterMilliseconds: rates.pollAfterMilliseconds(ahead: ahead), ticket: ticket
            )
        case .prequeue(let opensAt, _, let idleTimeout):
            var untilOpening = Int(max(1_000, min(10_000, opensAt - Int64(Date().timeIntervalSince1970 * 1000))))
            if idleTimeout > 0 { untilOpening = max(1_000, min(untilOpening, idleTimeout * 1000 / 3)) }
            return QueuePlaceBody(status: "prequeue", pollAfterMilliseconds: untilOpening, opensAt: opensAt, ticket: ticket)
        case .admitted(let admission):
            let claims = QueuePassClaims(
                issuer: keys.issuer, event: event, visitor: visitor, admission: admission.number,
                issuedAt: Date(), expiresAt: Date(timeIntervalSince1970: Double(admission.expiresAt) / 1000)
            )
            let pass: String
            do {
                pass = try await keys.sign(claims)
            } catch {
                throw QueueError.unavailable("signing the queue pass failed: \(error)")
            }
            let target = try? await room.describe(event: event).configuration.targetURL
            return QueuePlaceBody(status: "admitted", ticket: ticket, pass: pass, passExpiresAt: admission.expiresAt / 1000, targetURL: target)
        }
    }
}
