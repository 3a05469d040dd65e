import EmbeddedResources
import Foundation
import HummingbirdCore
import NIOCore
import NIOHTTP1
import Queue
import Redis
import Synchronization
import Tokens

/// A single-use pass being spent: claimed before the upstream call, confirmed after success.
struct PassSpend: Sendable {
    let redisKey: String
    let owner: String
    let expiresAt: Date
}

/// Requires a valid queue pass on guarded routes while the event's room is queueing. Every
/// method answers on the caller's event loop; Redis and signature work happen only when the
/// caches (room modes for a second, verified passes until their expiry) cannot answer.
final class PassEnforcer: Sendable {
    static let releaseLease = RedisScript(EmbeddedLua.leaseRelease)

    let room: WaitingRoom
    let keys: SigningKeyRing
    private let modes = Mutex<[String: (mode: RoomMode?, checked: ContinuousClock.Instant)]>([:])

    init(room: WaitingRoom, keys: SigningKeyRing) {
        self.room = room
        self.keys = keys
    }

    /// The event id named by the request where `policy` says to look.
    static func event(for policy: QueuePassPolicy, uri: String, headers: HTTPHeaders, body: ByteBuffer?) -> String? {
        let parts = policy.eventFrom.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        switch parts[0] {
        case "path":
            let segments = uri.pathWithoutQuery.split(separator: "/")
            return Int(parts[1]).flatMap { $0 < segments.count ? String(segments[$0]) : nil }
        case "header":
            return headers.first(name: parts[1])
        case "query":
            return URI(uri).queryParameters.get(parts[1])
        case "body":
            guard let body, let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else { return nil }
            return (object[parts[1]] as? String) ?? (object[parts[1]] as? Int).map(String.init)
        default:
            return nil
        }
    }

    /// Whether the event's room currently holds people back (queue, paused or closed); looked up
    /// at most once a second per event, and assumed when Redis cannot say.
    func requiresPass(event: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        let now = ContinuousClock.now
        if let cached = modes.withLock({ $0[event] }), now - cached.checked < .seconds(1) {
            return eventLoop.makeSucceededFuture(cached.mode.map { $0 != .open } ?? false)
        }
        return eventLoop.makeFutureWithTask {
            let mode: RoomMode?
            do throws(QueueError) {
                mode = try await self.room.describe(event: event).configuration.mode
            } catch .roomNotFound {
                mode = nil
            } catch {
                return true
            }
            self.modes.withLock { $0[event] = (mode, now) }
            return mode.map { $0 != .open } ?? false
        }
    }

    /// Verifies the pass from the `Queue-Pass` header or the `br_pass_<event>` cookie.
    func verify(headers: HTTPHeaders, event: String, on eventLoop: any EventLoop) -> EventLoopFuture<QueuePassClaims> {
        guard let token = headers.first(name: "queue-pass") ?? Self.cookie("br_pass_\(event)", in: headers) else {
            return eventLoop.makeFailedFuture(QueuePassRejection(reason: nil))
        }
        do {
            if let claims = try keys.cachedPass(token, event: event) { return eventLoop.makeSucceededFuture(claims) }
        } catch {
            return eventLoop.makeFailedFuture(QueuePassRejection(reason: error))
        }
        let keys = self.keys
        return eventLoop.makeFutureWithTask {
            do throws(TokenError) {
                return try await keys.verify(token, event: event)
            } catch {
                throw QueuePassRejection(reason: error)
            }
        }
    }

    /// Claims a single-use pass for this request; a pass already spent or being spent is refused.
    func claim(_ claims: QueuePassClaims, on eventLoop: any EventLoop) -> EventLoopFuture<PassSpend> {
        let spend = PassSpend(
            redisKey: "\(QueueKeys(event: claims.event).prefix)spent:\(claims.jti.value)",
            owner: "pending:\(UUID().uuidString)",
            expiresAt: claims.exp.value
        )
        return room.redis.send(RedisCommand("SET", [spend.redisKey, spend.owner, "NX", "PX", 60_000]), on: eventLoop)
            .flatMapErrorThrowing { error in throw QueueError.unavailable("\(error)") }
            .flatMapThrowing { claimed in
                guard !claimed.isNull else { throw QueuePassRejection(reason: .alreadyUsed) }
                return spend
            }
    }

    /// Marks the pass spent for as long as it could still be presented.
    func confirm(_ spend: PassSpend, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let remaining = max(1_000, Int(spend.expiresAt.timeIntervalSinceNow * 1000) + 60_000)
        return room.redis.send(RedisCommand("SET", [spend.redisKey, "spent", "PX", remaining]), on: eventLoop).map { _ in }.recover { _ in }
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
