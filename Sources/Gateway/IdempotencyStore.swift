import Crypto
import EmbeddedResources
import Foundation
import HTTPTypes
import NIOHTTP1
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
    case replay(EdgeResponse)
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
    static let replayedFields = ["Content-Type", "Location", "Content-Language", "ETag", "Last-Modified", "Cache-Control"]
    /// Larger responses are not stored; their key is released after the first answer.
    static let maximumStoredBody = 4 << 20

    let redis: RedisClient
    /// How long completed responses are replayed.
    let retention: Duration

    /// The key from the header: a structured-field string (`"abc"`) or a bare token (Stripe style).
    static func key(from header: String?) throws(IdempotencyError) -> String? {
        guard var value = header else { return nil }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        guard (1...255).contains(value.utf8.count), value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") }) else {
            throw .malformedKey
        }
        return value
    }

    /// Claims `key` for this request, or finds its earlier answer; the reply comes on `eventLoop`.
    func claim(
        key: String, principal: String, method: String, route: String, path: String, body: ByteBuffer, lease: Duration,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<IdempotencyClaim> {
        var fingerprint = SHA256()
        fingerprint.update(utf8: method + "\n" + path + "\n")
        body.withUnsafeReadableBytes { fingerprint.update(bufferPointer: $0) }
        let ticket = IdempotencyTicket(redisKey: redisKey(key: key, principal: principal, method: method, route: route), owner: UUIDText.random())
        let arguments: [any RedisArgument] = [ticket.owner, Self.hex(fingerprint.finalize()), Int(lease / .milliseconds(1))]
        let claimed = eventLoop.makePromise(of: IdempotencyClaim.self)
        redis.run(Self.begin, keys: [ticket.redisKey], arguments: arguments, on: eventLoop) { result in
            claimed.complete(catching: { () throws(IdempotencyError) in try Self.claim(result, ticket: ticket) })
        }
        return claimed.futureResult
    }

    /// The Redis key of `key` as sent by `principal` with `method` on `route`.
    func redisKey(key: String, principal: String, method: String, route: String) -> String {
        var scoped = SHA256()
        scoped.update(utf8: principal + "\n" + method + "\n" + route + "\n" + key)
        return redis.keySpace.tagged("idem:" + Self.hex(scoped.finalize()).prefix(32))
    }

    /// What `idempotency_begin.lua` replied, for `ticket`.
    private static func claim(_ result: Result<RedisValue, RedisError>, ticket: IdempotencyTicket) throws(IdempotencyError) -> IdempotencyClaim {
        guard case .success(let reply) = result else { throw .unavailable }
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

    /// Stores the upstream's answer for replay (a body too large to store releases the key instead).
    func complete(_ ticket: IdempotencyTicket, status: Int, headers: HTTPHeaders, body: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard body.readableBytes <= Self.maximumStoredBody else { return release(ticket, on: eventLoop) }
        let arguments: [any RedisArgument] = [ticket.owner, status, Self.storedFields(headers), body, Int(retention / .milliseconds(1))]
        return settled(Self.complete, ticket, arguments: arguments, on: eventLoop)
    }

    /// Gives the key up, so that a retry runs afresh (used when the upstream was never reached).
    func release(_ ticket: IdempotencyTicket, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        settled(Self.release, ticket, arguments: [ticket.owner], on: eventLoop)
    }

    /// Runs `script` on the ticket's key; the future succeeds once Redis has answered (or failed:
    /// the key's lease then ends it).
    private func settled(_ script: RedisScript, _ ticket: IdempotencyTicket, arguments: [any RedisArgument], on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let done = eventLoop.makePromise(of: Void.self)
        redis.run(script, keys: [ticket.redisKey], arguments: arguments, on: eventLoop) { _ in done.succeed() }
        return done.futureResult
    }

    /// The ``replayedFields`` of `headers` the upstream sent, as the JSON array of `[name, value]`
    /// pairs that ``replay(status:headers:body:)`` reads, written without `JSONEncoder`.
    static func storedFields(_ headers: HTTPHeaders) -> [UInt8] {
        var json: [UInt8] = [UInt8(ascii: "[")]
        for name in replayedFields {
            guard let value = headers.first(name: name) else { continue }
            if json.count > 1 { json.append(UInt8(ascii: ",")) }
            json.append(UInt8(ascii: "["))
            json.appendJSONString(name)
            json.append(UInt8(ascii: ","))
            json.appendJSONString(value)
            json.append(UInt8(ascii: "]"))
        }
        json.append(UInt8(ascii: "]"))
        return json
    }

    static func replay(status: Int, headers: String, body: RedisValue) -> EdgeResponse {
        var fields = HTTPHeaders()
        if let pairs = try? decoder.decode([[String]].self, from: Data(headers.utf8)) {
            for pair in pairs where pair.count == 2 { fields.add(name: pair[0], value: pair[1]) }
        }
        fields.replaceOrAdd(name: "idempotent-replayed", value: "true")
        let buffer: ByteBuffer = if case .bulkString(let bytes) = body { bytes } else { ByteBuffer() }
        return EdgeResponse(status: HTTPResponseStatus(statusCode: status), headers: fields, body: buffer)
    }

    private static let decoder = JSONDecoder()

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.hexString
    }
}
