import EmbeddedResources
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Queue
import Redis
import Synchronization

/// A single-use pass being spent: claimed before the upstream call, confirmed after success.
struct PassSpend: Sendable {
    let redisKey: String
    let owner: String
    let expiresAt: Date
}

/// Requires a valid queue pass on guarded routes while the event's room is queueing.
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
    static func event(for policy: QueuePassPolicy, request: Request, body: ByteBuffer?) -> String? {
        let parts = policy.eventFrom.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        switch parts[0] {
        case "path":
            let segments = request.uri.path.split(separator: "/").map(String.init)
            return Int(parts[1]).flatMap { $0 < segments.count ? segments[$0] : nil }
        case "header":
            return HTTPField.Name(parts[1]).flatMap { request.headers[$0] }
        case "query":
            return request.uri.queryParameters.get(parts[1])
        case "body":
            guard let body, let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else { return nil }
            return (object[parts[1]] as? String) ?? (object[parts[1]] as? Int).map(String.init)
        default:
            return nil
        }
    }

    /// Whether the event's room currently holds people back (queue, paused or closed); looked up
    /// at most once a second per event, and assumed when Redis cannot say.
    func requiresPass(event: String) async -> Bool {
        let now = ContinuousClock.now
        if let cached = modes.withLock({ $0[event] }), now - cached.checked < .seconds(1) {
            return cached.mode.map { $0 != .open } ?? false
        }
        let mode: RoomMode?
        do {
            mode = try await room.describe(event: event).configuration.mode
        } catch .roomNotFound {
            mode = nil
        } catch {
            return true
        }
        modes.withLock { $0[event] = (mode, now) }
        return mode.map { $0 != .open } ?? false
    }

    /// Verifies the pass from the `Queue-Pass` header or the `br_pass_<event>` cookie.
    func verify(request: Request, event: String) async throws(QueuePassRejection) -> QueuePassClaims {
        guard let token = request.headers[.queuePass] ?? request.cookies["br_pass_\(event)"]?.value else {
            throw QueuePassRejection(reason: nil)
        }
        do {
            return try await keys.verify(token, event: event)
        } catch {
            throw QueuePassRejection(reason: error)
        }
    }

    /// Claims a single-use pass for this request; a pass already spent or being spent is refused.
    func claim(_ claims: QueuePassClaims) async throws -> PassSpend {
        let spend = PassSpend(
            redisKey: "\(QueueKeys(event: claims.event).prefix)spent:\(claims.jti.value)",
            owner: "pending:\(UUID().uuidString)",
            expiresAt: claims.exp.value
        )
        let claimed: RedisValue
        do {
            claimed = try await room.redis.send(RedisCommand("SET", [spend.redisKey, spend.owner, "NX", "PX", 60_000]))
        } catch {
            throw QueueError.unavailable("\(error)")
        }
        guard !claimed.isNull else { throw QueuePassRejection(reason: .alreadyUsed) }
        return spend
    }

    /// Marks the pass spent for as long as it could still be presented.
    func confirm(_ spend: PassSpend) async {
        let remaining = max(1_000, Int(spend.expiresAt.timeIntervalSinceNow * 1000) + 60_000)
        _ = try? await room.redis.send(RedisCommand("SET", [spend.redisKey, "spent", "PX", remaining]))
    }

    /// Gives the pass back after a failed upstream call.
    func release(_ spend: PassSpend) async {
        _ = try? await room.redis.run(Self.releaseLease, keys: [spend.redisKey], arguments: [spend.owner])
    }
}
