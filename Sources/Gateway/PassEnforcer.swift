import EmbeddedResources
import Foundation
import HummingbirdCore
import NIOCore
import NIOHTTP1
import Queue
import Redis
import ServiceKit
import Synchronization
import Tokens

/// A single-use pass being spent: claimed before the upstream call, confirmed after success.
struct PassSpend: Sendable {
    let redisKey: String
    let owner: String
    let expiresAt: Date
}

/// Whether an event's room holds people back, as far as guarded routes are concerned.
enum RoomGuard: Sendable {
    /// Queueing, paused or closed: a pass is required.
    case guarded
    /// Open: no pass is needed.
    case open
    /// No room: no pass is needed, but a pass presented for it is revoked.
    case absent
}

/// Who presents a pass: the verified account, or else the visitor of a genuine ticket.
struct PassRequester: Sendable {
    /// `u:<id>` of the access token's user.
    var account: String?
    /// `t:<id>` of the request's visitor ticket.
    var ticketVisitor: String?
}

/// Requires a valid queue pass on guarded routes while the event's room is queueing, presented
/// by its visitor, for an admission that still stands. Every method answers on the caller's
/// event loop; signatures are checked from the key ring's cache when they can be, and the
/// admission, the binding of an anonymous pass and a single-use claim take one script call.
final class PassEnforcer: Sendable {
    static let releaseLease = RedisScript(EmbeddedLua.leaseRelease)
    static let checkScript = RedisScript(EmbeddedLua.passCheck)

    let room: WaitingRoom
    let keys: SigningKeyRing
    let tickets: VisitorTickets
    /// Whether each event's room holds people back (queue, paused or closed): looked up about
    /// once a second per event, and assumed when Redis cannot say.
    let guards: RoomGuards

    init(room: WaitingRoom, keys: SigningKeyRing, tickets: VisitorTickets) {
        self.room = room
        self.keys = keys
        self.tickets = tickets
        self.guards = RoomGuards(room: room)
    }

    /// The pass a request presents: the `Queue-Pass` header, else the `br_pass_<event>` cookie.
    static func presentedPass(_ headers: HTTPHeaders, event: String) -> String? {
        headers.first(name: "queue-pass") ?? cookie("br_pass_\(event)", in: headers)
    }

    /// The visitor of the request's genuine ticket (header `Visitor-Ticket` or cookie `br_visitor`).
    func ticketVisitor(_ headers: HTTPHeaders) -> String? {
        for ticket in [headers.first(name: "visitor-ticket"), Self.cookie("br_visitor", in: headers)].compactMap({ $0 }) {
            if let visitor = tickets.visitor(from: ticket) { return visitor }
        }
        return nil
    }

    /// Verifies a pass's signature, use, issuer and audience.
    func verify(_ token: String, event: String, on eventLoop: any EventLoop) -> EventLoopFuture<QueuePassClaims> {
        do {
            if let claims = try keys.cachedPass(token, event: event) { return eventLoop.makeSucceededFuture(claims) }
        } catch {
            return eventLoop.makeFailedFuture(QueuePassRejection(token: error))
        }
        let keys = self.keys
        return eventLoop.makeFutureWithTask {
            do throws(TokenError) {
                return try await keys.verify(token, event: event)
            } catch {
                throw QueuePassRejection(token: error)
            }
        }
    }

    /// Checks that the pass serves `requester` and that its admission stands: a logged-in
    /// visitor's pass needs that account; an anonymous visitor's pass is bound to the first
    /// account that uses it, or else needs the visitor's own ticket. A single-use pass is
    /// claimed too; the spend to settle is returned. A plain pass's admission confirmed for the
    /// same requester within the last second is taken as standing (``AdmissionVerdicts``),
    /// unless `askingRedis` (the check that renews that answer). A revoked admission is forgotten.
    func check(
        _ claims: QueuePassClaims, requester: PassRequester, singleUse: Bool, askingRedis: Bool = false, on eventLoop: any EventLoop
    ) -> EventLoopFuture<PassSpend?> {
        let visitor = claims.sub.value
        guard let bindTo = Self.binding(of: visitor, to: requester) else { return eventLoop.makeFailedFuture(QueuePassRejection(.anotherVisitor)) }
        let event = claims.event
        let keys = QueueKeys(event: event, in: room.redis.keySpace)
        let admission = Self.admission(of: claims)
        let spend = singleUse
            ? PassSpend(redisKey: keys.spent(passID: claims.jti.value), owner: "pending:\(UUIDText.random())", expiresAt: claims.exp.value)
            : nil
        let verdicts = room.admissions
        if spend == nil, !askingRedis, verdicts.stands(event: event, visitor: visitor, admission: admission, requester: bindTo) {
            return eventLoop.makeSucceededFuture(nil)
        }
        return room.redis.run(
            Self.checkScript, keys: [keys.visitors, keys.holder(admission: admission), spend?.redisKey ?? keys.spent(passID: "-")],
            arguments: [visitor, admission, bindTo, spend?.owner ?? ""], on: eventLoop
        )
        .flatMapErrorThrowing { error in throw QueueError.unavailable("\(error)") }
        .flatMapThrowing { reply in
            switch reply.array?.first?.string {
            case "ok":
                if spend == nil {
                    let expiresIn = Duration.milliseconds(Int64(claims.exp.value.timeIntervalSinceNow * 1000))
                    verdicts.confirm(event: event, visitor: visitor, admission: admission, requester: bindTo, expiresIn: expiresIn)
                }
                return spend
            case "revoked":
                verdicts.forget(event: event, visitor: visitor)
                throw QueuePassRejection(.revoked(event: event))
            case "taken": throw QueuePassRejection(.anotherVisitor)
            case "used": throw QueuePassRejection(token: .alreadyUsed)
            default: throw QueueError.unavailable("unexpected pass check reply \(reply)")
            }
        }
    }

    /// Whether this gateway's caches alone show that a plain pass lets `requester` through: the
    /// room's mode, the token's signature and an admission Redis confirmed for this requester
    /// within the last second. False means "ask Redis", not "refuse". When that admission's
    /// next check is due, this request starts it on `eventLoop` and passes meanwhile.
    /// `requester` is worked out only when a cached pass is there to check it against.
    func admitsFromCache(_ token: String?, event: String, requester: @autoclosure () -> PassRequester, on eventLoop: any EventLoop) -> Bool {
        switch guards.current(event: event, on: eventLoop) {
        case nil: return false
        case .open: return true
        case .absent: return token == nil
        case .guarded:
            guard let token, let claims = try? keys.cachedPass(token, event: event) else { return false }
            let requester = requester()
            guard let bindTo = Self.binding(of: claims.sub.value, to: requester) else { return false }
            switch room.admissions.standing(event: event, visitor: claims.sub.value, admission: Self.admission(of: claims), requester: bindTo) {
            case .unknown:
                return false
            case .stands:
                return true
            case .standsCheckDue:
                _ = check(claims, requester: requester, singleUse: false, askingRedis: true, on: eventLoop)
                return true
            }
        }
    }

    /// The account an anonymous pass gets bound to by `requester` ("" when none), or nil when the
    /// pass is not theirs: a logged-in visitor's pass needs that account; an anonymous visitor's
    /// pass is bound to the account that uses it, or else needs the visitor's own ticket.
    private static func binding(of visitor: String, to requester: PassRequester) -> String? {
        if visitor.hasPrefix("u:") { return requester.account == visitor ? "" : nil }
        if let account = requester.account { return account }
        return requester.ticketVisitor == visitor ? "" : nil
    }

    /// The admission number a pass stands for (the last part of its `jti`).
    private static func admission(of claims: QueuePassClaims) -> String {
        let jti = claims.jti.value.utf8
        guard let dot = jti.lastIndex(of: UInt8(ascii: ".")), jti.index(after: dot) < jti.endIndex else {
            return claims.jti.value.split(separator: ".").last.map(String.init) ?? ""
        }
        return String(Substring(jti[jti.index(after: dot)...]))
    }

    /// Marks the pass spent for as long as it could still be presented.
    func confirm(_ spend: PassSpend, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let remaining = max(1_000, Int(spend.expiresAt.timeIntervalSinceNow * 1000) + 60_000)
        return room.redis.set(spend.redisKey, to: "spent", expiresIn: .milliseconds(remaining), on: eventLoop).recover { _ in }
    }

    /// Gives the pass back after a failed upstream call.
    func release(_ spend: PassSpend, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        room.redis.run(Self.releaseLease, keys: [spend.redisKey], arguments: [spend.owner], on: eventLoop).map { _ in }.recover { _ in }
    }

    /// The value of cookie `name` in the request's `Cookie` fields.
    static func cookie(_ name: String, in headers: HTTPHeaders) -> String? {
        for value in headers["cookie"] {
            for pair in value.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                if trimmed.hasPrefix(name), trimmed.dropFirst(name.count).first == "=" {
                    return String(trimmed.dropFirst(name.count + 1))
                }
            }
        }
        return nil
    }
}
