import Foundation
import JWTKit
import Redis
import Synchronization

/// ES256 signing keys shared by every gateway through Redis: one ring signs queue passes,
/// another access tokens.
///
/// One key is active and signs; the previous ones keep verifying until tokens signed with them
/// have expired. `rotate()` on any gateway reaches the others at their next `refresh()`, or as
/// soon as they meet a token with the new `kid`.
public final class SigningKeyRing: Sendable {
    /// How many keys stay usable for verification (the active one included).
    public static let retainedKeys = 4

    private struct StoredKey: Codable {
        var createdMilliseconds: Int64
        var pem: String
        enum CodingKeys: String, CodingKey { case createdMilliseconds = "created_ms", pem }
    }

    private struct State {
        var collection = JWTKeyCollection()
        var activeKid: String?
        var kids: Set<String> = []
        var publicKeys: [JSONWebKey] = []
        var lastRefresh: ContinuousClock.Instant?
    }

    /// A token already verified, reusable until `until` (never past its own expiry).
    private struct Verified {
        var payload: any Sendable
        var until: Date
    }

    /// Most verified tokens remembered; browsers present the same token on every request.
    public static let verifiedCacheSize = 20_000
    /// Longest a verified token is trusted without checking its signature again.
    public static let verifiedCacheLifetime: TimeInterval = 60

    public let redis: RedisClient
    public let issuer: String
    /// Redis hash: kid → JSON `{"created_ms": …, "pem": …}` of the private key.
    public let keysKey: String
    /// Redis string: the active kid.
    public let activeKey: String
    private let state = Mutex(State())
    private let verified = Mutex<[String: Verified]>([:])

    /// - Parameter namespace: the Redis key prefix of the ring; gateways that share passes share
    ///   it. By default `SPACE:pass-keys` in the client's key space.
    public init(redis: RedisClient, issuer: String = "booking-rush", namespace: String? = nil) {
        self.redis = redis
        self.issuer = issuer
        self.keysKey = namespace ?? redis.keySpace.key("pass-keys")
        self.activeKey = keysKey + ":active"
    }

    /// Loads the keys, creating the first one if no gateway has yet.
    public func bootstrap() async throws {
        if try await redis.getString(activeKey) == nil {
            let (kid, stored) = try Self.generate()
            try await redis.hashSetIfAbsent(keysKey, field: kid, to: stored)
            try await redis.set(activeKey, to: kid, onlyIfAbsent: true)
        }
        try await refresh()
    }

    /// Makes a new key the signing key; older keys keep verifying. Returns the new kid.
    @discardableResult
    public func rotate() async throws -> String {
        let (kid, stored) = try Self.generate()
        try await redis.hashSet(keysKey, [(kid, stored)])
        try await redis.set(activeKey, to: kid)
        let all = try await loadStored()
        let retired = all.sorted { $0.value.createdMilliseconds > $1.value.createdMilliseconds }.dropFirst(Self.retainedKeys)
        if !retired.isEmpty {
            try await redis.hashDelete(keysKey, fields: retired.map(\.key))
        }
        try await refresh()
        return kid
    }

    /// Reloads the keys from Redis.
    public func refresh() async throws {
        let stored = try await loadStored()
        let active = try await redis.getString(activeKey)
        let collection = JWTKeyCollection()
        var publicKeys: [JSONWebKey] = []
        for (kid, key) in stored.sorted(by: { $0.value.createdMilliseconds > $1.value.createdMilliseconds }) {
            let privateKey = try ES256PrivateKey(pem: key.pem)
            await collection.add(ecdsa: privateKey, kid: JWKIdentifier(string: kid))
            if let parameters = privateKey.publicKey.parameters {
                publicKeys.append(JSONWebKey(kid: kid, x: parameters.x, y: parameters.y))
            }
        }
        let retired = state.withLock { state in
            let retired = !state.kids.isSubset(of: stored.keys)
            state.collection = collection
            state.activeKid = active
            state.kids = Set(stored.keys)
            state.publicKeys = publicKeys
            state.lastRefresh = .now
            return retired
        }
        // Tokens signed by a retired key must stop verifying at once.
        if retired { verified.withLock { $0.removeAll() } }
    }

    /// The public keys, newest first, as a JWKS document.
    public var jwks: JSONWebKeySet {
        JSONWebKeySet(keys: state.withLock { $0.publicKeys })
    }

    /// The kid that signs new tokens.
    public var activeKid: String? { state.withLock { $0.activeKid } }

    /// Whether `kid` names a key of this ring (as last loaded).
    public func knows(kid: String) -> Bool { state.withLock { $0.kids.contains(kid) } }

    /// Signs `payload` with the active key; the header's `typ` is `type`.
    public func sign(_ payload: some JWTPayload, type: String) async throws -> String {
        let (collection, kid) = state.withLock { ($0.collection, $0.activeKid) }
        guard let kid else { throw TokenError.unknownKey }
        let header: JWTHeader = ["typ": .string(type), "alg": .string("ES256"), "kid": .string(kid)]
        return try await collection.sign(payload, kid: JWKIdentifier(string: kid), header: header)
    }

    /// Verifies a token of `type`: algorithm pinned to ES256, header type, a kid of this ring,
    /// signature, then the payload's own checks (expiry, not-before). A token verified before is
    /// answered from a cache until its expiry (at most a minute).
    public func verify<Payload: ExpiringPayload>(_ token: String, as _: Payload.Type, type: String) async throws(TokenError) -> Payload {
        let now = Date()
        if let hit = verified.withLock({ $0[token] }), hit.until > now, let payload = hit.payload as? Payload {
            return payload
        }
        let payload = try await verifySignature(token, as: Payload.self, type: type)
        let until = min(payload.expiresAt, now.addingTimeInterval(Self.verifiedCacheLifetime))
        verified.withLock { cache in
            if cache.count >= Self.verifiedCacheSize {
                cache = cache.filter { $0.value.until > now }
                if cache.count >= Self.verifiedCacheSize { cache.removeAll(keepingCapacity: true) }
            }
            cache[token] = Verified(payload: payload, until: until)
        }
        return payload
    }

    /// A token verified before and still inside its cache lifetime, without any signature work:
    /// what a channel handler asks first, before it goes async for ``verify(_:as:type:)``.
    public func cachedVerification<Payload: ExpiringPayload>(_ token: String, as _: Payload.Type) -> Payload? {
        guard let hit = verified.withLock({ $0[token] }), hit.until > Date() else { return nil }
        return hit.payload as? Payload
    }

    private func verifySignature<Payload: JWTPayload>(_ token: String, as _: Payload.Type, type: String) async throws(TokenError) -> Payload {
        let header = try TokenHeader.decode(token)
        guard header.alg == "ES256" else { throw .algorithmNotAllowed(header.alg ?? "none") }
        guard header.typ == type else { throw .wrongType }
        guard let kid = header.kid else { throw .unknownKey }
        if !state.withLock({ $0.kids.contains(kid) }) {
            try? await refreshIfStale()
            guard state.withLock({ $0.kids.contains(kid) }) else { throw .unknownKey }
        }
        let collection = state.withLock { $0.collection }
        do {
            return try await collection.verify(token, as: Payload.self)
        } catch let error as JWTError {
            throw TokenError(error)
        } catch {
            throw .invalidSignature
        }
    }

    /// Reloads at most once a second, for passes signed by a key this gateway has not seen yet.
    private func refreshIfStale() async throws {
        let stale = state.withLock { state in
            guard let last = state.lastRefresh else { return true }
            return ContinuousClock.now - last > .seconds(1)
        }
        if stale { try await refresh() }
    }

    private func loadStored() async throws -> [String: StoredKey] {
        try await redis.hashGetAll(keysKey).compactMapValues { json in
            try? JSONDecoder().decode(StoredKey.self, from: Data(json.utf8))
        }
    }

    private static func generate() throws -> (kid: String, stored: String) {
        let key = ES256PrivateKey()
        let created = Int64(Date().timeIntervalSince1970 * 1000)
        let kid = "k-\(created)-\(UInt32.random(in: 0 ... .max))"
        let json = try JSONEncoder().encode(StoredKey(createdMilliseconds: created, pem: key.pemRepresentation))
        return (kid, String(decoding: json, as: UTF8.self))
    }
}

/// One public key in a JWKS document (RFC 7517), as services behind the gateway consume it.
public struct JSONWebKey: Sendable, Codable, Hashable {
    public var kty = "EC"
    public var crv = "P-256"
    public var alg = "ES256"
    public var use = "sig"
    public var kid: String
    public var x: String
    public var y: String

    public init(kid: String, x: String, y: String) {
        self.kid = kid
        self.x = x
        self.y = y
    }
}

/// A JWKS document: `{"keys": [...]}`.
public struct JSONWebKeySet: Sendable, Codable, Hashable {
    public var keys: [JSONWebKey]
}

/// Claims with an expiry, so that a verified token is never trusted past it.
public protocol ExpiringPayload: JWTPayload {
    var expiresAt: Date { get }
}
