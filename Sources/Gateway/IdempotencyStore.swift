import Crypto
import EmbeddedResources
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Queue
import Redis
import ServiceKit

/// Why an idempotent request was refused before reaching the upstream.
public enum IdempotencyError: Error, Sendable, Hashable {
    /// The route requires an `Idempotency-Key` and none was sent.
    case missingKey
    /// The key is not 1–255 printable ASCII characters.
    case malformedKey
    /// A request with this key is still being processed; retry after this many seconds.
    case inFlight(retryAfter: Int)
    /// The key was used before with a different request.
    case payloadMismatch
    /// Redis could not be reached, so exactly-once cannot be promised.
    case unavailable

    /// The outcome's name in metrics.
    var outcome: String {
        switch self {
        case .missingKey: "missing_key"
        case .malformedKey: "malformed_key"
        case .inFlight: "in_flight"
        case .payloadMismatch: "mismatch"
        case .unavailable: "unavailable"
        }
    }
}

/// What an idempotency key tells the gateway to do.
enum IdempotencyClaim: Sendable {
    /// First use: forward, then `complete` (or `release` when the upstream was not reached).
    case claimed(IdempotencyTicket)
    /// Already answered: replay this response.
    case replay(Response)
}

/// The claim on a key held by one attempt.
struct IdempotencyTicket: Sendable {
    let redisKey: String
    let owner: String
}

/// Idempotency keys (draft-ietf-httpapi-idempotency-key-header, with Stripe's behaviour): one
/// execution per key and principal, replayed byte for byte afterwards, in Redis so that every
/// gateway shares them.
struct IdempotencyStore: Sendable {
    static let begin = RedisScript(EmbeddedLua.idempotencyBegin)
    static let complete = RedisScript(EmbeddedLua.idempotencyComplete)
    static let release = RedisScript(EmbeddedLua.idempotencyRelease)
    /// Response fields stored and replayed (besides the status and body).
    static let replayedFields: [HTTPField.Name] = [.contentType, .location, .contentLanguage, .eTag, .lastModified, .cacheControl]
    /// Larger responses are not stored; their key is released after the first answer.
    static let maximumStoredBody = 4 << 20

    let redis: RedisClient
    /// How long completed responses are replayed.
    let retention: Duration

    /// The key from the header: a structured-field string (`"abc"`) or a bare token (Stripe style).
    static func key(from fields: HTTPFields) throws(IdempotencyError) -> String? {
        guard var value = fields[.idempotencyKey] else { return nil }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        guard (1...255).contains(value.utf8.count), value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") }) else {
            throw .malformedKey
        }
        return value
    }

    /// Claims `key` for this request, or finds its earlier answer.
    func claim(key: String, principal: String, method: HTTPRequest.Method, route: String, path: String, body: ByteBuffer, lease: Duration) async throws(IdempotencyError) -> IdempotencyClaim {
        let scope = Self.hex(SHA256.hash(data: Array("\(principal)\n\(method.rawValue)\n\(route)\n\(key)".utf8)))
        var fingerprint = SHA256()
        fingerprint.update(data: Array("\(method.rawValue)\n\(path)\n".utf8))
        fingerprint.update(data: Array(body.readableBytesView))
        let ticket = IdempotencyTicket(redisKey: "bk:{idem:\(scope.prefix(32))}", owner: UUID().uuidString)
        let reply: RedisValue
        do {
            reply = try await redis.run(Self.begin, keys: [ticket.redisKey], arguments: [ticket.owner, Self.hex(fingerprint.finalize()), Int(lease / .milliseconds(1))])
        } catch {
            throw .unavailable
        }
        let fields = reply.array ?? []
        switch fields.first?.string {
        case "claimed":
            return .claimed(ticket)
        case "mismatch":
            throw .payloadMismatch
        case "in_flight":
            throw .inFlight(retryAfter: max(1, min(30, ((fields.count > 1 ? fields[1].int : nil) ?? 1000) / 1000)))
        case "completed" where fields.count == 4:
            return .replay(Self.replay(status: fields[1].int ?? 500, headers: fields[2].string ?? "[]", body: fields[3]))
        default:
            throw .unavailable
        }
    }

    /// Stores the upstream's answer for replay; returns it as a response for this client.
    func complete(_ ticket: IdempotencyTicket, status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) async {
        guard body.readableBytes <= Self.maximumStoredBody else {
            await release(ticket)
            return
        }
        let stored = Self.replayedFields.compactMap { name in headers[name].map { [name.rawName, $0] } }
        let json = (try? JSONEncoder().encode(stored)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        _ = try? await redis.run(Self.complete, keys: [ticket.redisKey], arguments: [
            ticket.owner, status.code, json, body, Int(retention / .milliseconds(1)),
        ])
    }

    /// Gives the key up, so that a retry runs afresh (used when the upstream was never reached).
    func release(_ ticket: IdempotencyTicket) async {
        _ = try? await redis.run(Self.release, keys: [ticket.redisKey], arguments: [ticket.owner])
    }

    static func replay(status: Int, headers: String, body: RedisValue) -> Response {
        var fields = HTTPFields()
        if let pairs = try? JSONDecoder().decode([[String]].self, from: Data(headers.utf8)) {
            for pair in pairs where pair.count == 2 {
                if let name = HTTPField.Name(pair[0]) { fields.append(HTTPField(name: name, value: pair[1])) }
            }
        }
        fields[.idempotentReplayed] = "true"
        let buffer: ByteBuffer = if case .bulkString(let bytes) = body { bytes } else { ByteBuffer() }
        return Response(status: HTTPResponse.Status(code: status), headers: fields, body: .init(byteBuffer: buffer))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.hexString
    }
}
