import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import NIOCore
import Queue
import Redis
import ServiceTestSupport
import Testing
import Tokens

@testable import Gateway

/// An identity provider on a loopback port: an ES256 key published as a JWKS.
struct IdentityProvider {
    let key = ES256PrivateKey()
    let kid = "idp-\(UUID().uuidString.prefix(6))"
    let signer = JWTKeyCollection()

    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var aud: AudienceClaim
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var roles: [String]
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    func jwks() -> String {
        let parameters = key.publicKey.parameters!
        return #"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"\#(kid)","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
    }

    func token(
        issuer: String = "https://idp.example", audience: String = "booking-rush", expiresIn: TimeInterval = 300, kid: String? = nil,
        roles: [String] = ["organizer"], typ: String = "JWT"
    ) async throws -> String {
        await signer.add(ecdsa: key, kid: JWKIdentifier(string: self.kid))
        let claims = Claims(iss: .init(value: issuer), aud: .init(value: [audience]), sub: "ext-user-7", exp: .init(value: Date().addingTimeInterval(expiresIn)), roles: roles)
        // With no kid argument jwt-kit signs with its default key under the header's kid: a real
        // signature with an unknown kid.
        return try await signer.sign(claims, kid: kid == nil ? JWKIdentifier(string: self.kid) : nil, header: ["kid": .string(kid ?? self.kid), "typ": .string(typ)])
    }
}

@Suite("Access tokens from an external identity provider (JWKS URL)")
struct ExternalTokenTests {
    @Test("valid tokens pass with a namespaced identity and mapped roles only; wrong issuer, audience, kid, algorithm, type or expiry get 401")
    func externalTokens() async throws {
        let provider = IdentityProvider()
        let jwks = provider.jwks()
        let router = Router()
        router.get("/.well-known/jwks.json") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: jwks))) }
        try await UpstreamServer.with { upstream in
            let idp = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await idp.test(.live) { idpClient in
                let jwksURL = "http://127.0.0.1:\(idpClient.port!)/.well-known/jwks.json"
                try await TestRedis.withClient { redis in
                    let configuration = GatewayConfiguration(
                        port: 0, releaseInterval: .zero,
                        routes: RouteTable(routes: [ProxyRoute(name: "members", prefix: "/api/echo", upstreams: [upstream.url], authentication: .required, roles: ["organizer"])]),
                        externalProvider: .init(
                            jwksURL: jwksURL, issuer: "https://idp.example", audience: "booking-rush", namespace: "idp", roles: ["organizer": "organizer", "idp-staff": "organizer"]
                        )
                    )
                    let components = await GatewayComponents.make(configuration: configuration, redis: redis, logger: Logger(label: "ext-tests"))
                    try await Application(router: buildGatewayRouter(components), server: gatewayServer(components)).test(.live) { client in
                        func call(_ token: String) async throws -> TestResponse {
                            try await client.execute(uri: "/api/echo/x", method: .get, headers: [.authorization: "Bearer \(token)"])
                        }
                        let good = try await call(try await provider.token())
                        #expect(good.status == .ok)
                        let echo = try JSONDecoder().decode(UpstreamServer.Echo.self, from: good.body)
                        #expect(echo.headers["x-gateway-user-id"] == "idp:ext-user-7", "namespaced: never a built-in account's id")
                        #expect(echo.headers["x-gateway-user-roles"] == "organizer")

                        let escalated = try await call(try await provider.token(roles: ["admin", "idp-staff"]))
                        #expect(escalated.status == .ok)
                        let roles = try JSONDecoder().decode(UpstreamServer.Echo.self, from: escalated.body).headers["x-gateway-user-roles"]
                        #expect(roles == "organizer", "an unmapped `admin` is dropped; idp-staff maps to organizer: \(roles ?? "-")")
                        #expect(try await call(try await provider.token(roles: ["admin"])).status == .forbidden, "only unmapped roles: a customer, not an organizer")
                        #expect(try await call(try await provider.token(typ: "at+jwt")).status == .ok)
                        let pass = try await call(try await provider.token(typ: "queue-pass+jwt"))
                        #expect(pass.status == .unauthorized, "a token typed as something else is not an access token")

                        #expect(try await call(try await provider.token(issuer: "https://evil.example")).status == .unauthorized)
                        #expect(try await call(try await provider.token(audience: "another-api")).status == .unauthorized)
                        #expect(try await call(try await provider.token(expiresIn: -60)).status == .unauthorized)
                        #expect(try await call(try await provider.token(kid: "unknown-kid")).status == .unauthorized)

                        // HS256 "signed" with the public key's JWK, naming the provider's kid: refused before any signature work.
                        let header = #"{"alg":"HS256","typ":"JWT","kid":"\#(provider.kid)"}"#
                        let payload = #"{"iss":"https://idp.example","aud":["booking-rush"],"sub":"mallory","exp":\#(Int(Date().timeIntervalSince1970) + 300),"roles":["organizer"]}"#
                        func b64(_ text: String) -> String { Data(text.utf8).base64URLEncodedString() }
                        let input = b64(header) + "." + b64(payload)
                        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(jwks.utf8)))
                        let confused = try await call(input + "." + Data(mac).base64URLEncodedString())
                        #expect(confused.status == .unauthorized)
                        #expect(confused.problem?.detail?.contains("HS256") == true)
                    }
                    try await components.httpClient.shutdown()
                }
            }
        }
    }
}
