import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import Queue
import Synchronization
import Tokens

/// Claims of an access token from an external identity provider.
struct ExternalAccessClaims: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var roles: [String]?
    var email: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore()
    }
}

/// Verifies access tokens of an external identity provider against its JWKS URL.
///
/// Each key's algorithm is pinned by its JWK (`alg`, or RS256/ES256 from the key type): a token
/// whose header names another algorithm, an HMAC one or `none`, is refused before any signature
/// work. Keys are fetched at first use, every five minutes, and (at most every ten seconds)
/// when a token names an unknown `kid`. A token typed as something other than an access token
/// (`typ` neither absent, `JWT` nor `at+jwt`) is refused. Users become `<namespace>:<sub>`; only
/// roles the configuration maps are kept (`customer` when none is).
final class ExternalTokenVerifier: Sendable {
    static let accessTokenTypes: Set<String> = ["jwt", "at+jwt", "application/at+jwt"]

    static let asymmetric: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]

    let jwksURL: String
    let issuer: String
    let audience: String
    let namespace: String
    let roles: [String: String]
    private let client: HTTPClient
    private let state = Mutex<(collection: JWTKeyCollection, algorithms: [String: String], fetched: ContinuousClock.Instant?)>(
        (JWTKeyCollection(), [:], nil)
    )

    init(provider: GatewayConfiguration.ExternalProvider, client: HTTPClient) {
        self.jwksURL = provider.jwksURL
        self.issuer = provider.issuer
        self.audience = provider.audience
        self.namespace = provider.namespace
        self.roles = provider.roles
        self.client = client
    }

    func verify(_ token: String) async throws(TokenError) -> Identity {
        let header = try TokenHeader.decode(token)
        if let typ = header.typ, !Self.accessTokenTypes.contains(typ.lowercased()) { throw .wrongType }
        guard let kid = header.kid else { throw .unknownKey }
        guard let alg = header.alg, Self.asymmetric.contains(alg) else { throw .algorithmNotAllowed(header.alg ?? "none") }
        var pinned = state.withLock { $0.algorithms[kid] }
        if pinned == nil {
            try? await refresh(force: false)
            pinned = state.withLock { $0.algorithms[kid] }
        }
        guard let pinned else { throw .unknownKey }
        guard pinned == alg else { throw .algorithmNotAllowed(alg) }
        let collection = state.withLock { $0.collection }
        let claims: ExternalAccessClaims
        do {
            claims = try await collection.verify(token, as: ExternalAccessClaims.self)
        } catch let error as JWTError {
            throw TokenError(error)
        } catch {
            throw .invalidSignature
        }
        guard claims.iss.value == issuer else { throw .wrongIssuer }
        guard claims.aud.value.contains(audience) else { throw .wrongAudience }
        let mapped = Set((claims.roles ?? []).compactMap { roles[$0] })
        return Identity(userID: "\(namespace):\(claims.sub.value)", roles: mapped.isEmpty ? ["customer"] : mapped, email: claims.email)
    }

    /// Fetches the JWKS; unforced, at most every ten seconds.
    func refresh(force: Bool) async throws {
        if !force, let fetched = state.withLock({ $0.fetched }), ContinuousClock.now - fetched < .seconds(10) { return }
        state.withLock { $0.fetched = .now }
        let response = try await client.execute(HTTPClientRequest(url: jwksURL), deadline: .now() + .seconds(3))
        guard response.status == .ok else { throw TokenError.unknownKey }
        let body = try await response.body.collect(upTo: 1 << 20)
        let jwks = try JSONDecoder().decode(JWKS.self, from: Data(buffer: body))
        let collection = JWTKeyCollection()
        var algorithms: [String: String] = [:]
        for key in jwks.keys {
            guard let kid = key.keyIdentifier?.string, let alg = Self.algorithm(of: key), Self.asymmetric.contains(alg) else { continue }
            var pinned = key
            pinned.algorithm = JWK.Algorithm(rawValue: alg)
            try await collection.add(jwk: pinned)
            algorithms[kid] = alg
        }
        state.withLock { $0 = (collection, algorithms, .now) }
    }

    /// The JWK's `alg`, else the usual one for its key type.
    static func algorithm(of key: JWK) -> String? {
        if let alg = key.algorithm?.rawValue { return alg }
        switch key.keyType {
        case .rsa: return "RS256"
        case .ecdsa: return key.curve == .ecdsa(.p384) ? "ES384" : key.curve == .ecdsa(.p521) ? "ES512" : "ES256"
        case .octetKeyPair: return "EdDSA"
        default: return nil
        }
    }
}
