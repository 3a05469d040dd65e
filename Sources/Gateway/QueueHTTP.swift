import Foundation
import HTTPTypes
import Hummingbird
import Queue
import ServiceKit
import Tokens

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

    /// The queue routes of the gateway made of `components`.
    init(components: GatewayComponents) {
        let configuration = components.configuration
        self.room = components.room
        self.keys = components.passKeys
        self.tickets = VisitorTickets(secret: configuration.visitorTicketSecret)
        self.challenges = JoinChallenges(secret: configuration.visitorTicketSecret)
        self.tokens = components.accessTokens
        self.snapshots = components.snapshots
        self.secureCookies = configuration.secureCookies
    }

    /// The visitor a request speaks for: a logged-in user (`u:<id>`, from a valid access token),
    /// otherwise a genuine ticket from the header or the cookie.
    func visitor(of request: Request) async throws -> (visitor: String, ticket: String?)? {
        if let tokens, let identity = try await tokens.identity(of: request) {
            return (identity.principal, nil)
        }
        return ticketVisitor(of: request)
    }

    /// The visitor named by a genuine ticket from the header or the cookie.
    func ticketVisitor(of request: Request) -> (visitor: String, ticket: String?)? {
        for ticket in [request.headers.value(of: Self.ticketHeader), request.cookies[Self.visitorCookie]?.value].compactMap({ $0 }) {
            if let visitor = tickets.visitor(from: ticket) { return (visitor, Optional(ticket)) }
        }
        return nil
    }

    /// The visitor a request speaks for, or a new one with a fresh ticket (and its cookie to set).
    /// `allowTokens` lets a logged-in user queue as themselves.
    func visitorOrNew(_ request: Request, allowTokens: Bool) async throws -> (visitor: String, ticket: String?, cookie: QueueCookie?) {
        if let existing = allowTokens ? try await visitor(of: request) : ticketVisitor(of: request) {
            return (existing.visitor, existing.ticket, nil)
        }
        let issued = tickets.issue()
        return (issued.visitor, issued.ticket, ticketCookie(issued.ticket))
    }

    /// The request's proof of work (header `Queue-Proof`), verified; nil when it has none.
    func proof(of request: Request, event: String) throws(QueueError) -> JoinProof? {
        guard let solution = request.headers.value(of: Self.proofHeader) else { return nil }
        return try challenges.verify(solution, event: event)
    }

    /// The cookie that carries a visitor ticket for browsers.
    func ticketCookie(_ ticket: String) -> QueueCookie {
        QueueCookie(name: Self.visitorCookie, value: ticket, maxAge: 86_400, secure: secureCookies)
    }

    /// The cookie that carries the queue pass of `body` (an admission) to guarded routes, for as
    /// long as the pass lasts; nil for a body without a pass.
    func passCookie(event: String, body: QueuePlaceBody) -> QueueCookie? {
        guard let pass = body.pass, let expiresAt = body.passExpiresAt else { return nil }
        let maxAge = max(1, Int(expiresAt - Int64(Date().timeIntervalSince1970)))
        return QueueCookie(name: "br_pass_\(event)", value: pass, maxAge: maxAge, secure: secureCookies)
    }

    /// The body for a place; an admitted visitor gets a freshly signed pass.
    func body(event: String, visitor: String, place: VisitorPlace, ticket: String? = nil) async throws -> QueuePlaceBody {
        if let body = QueuePlaceBody(unsigned: place, ticket: ticket) { return body }
        guard case .admitted(let admission) = place else { throw QueueError.unavailable("no answer for \(place)") }
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
