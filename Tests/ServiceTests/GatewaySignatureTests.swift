import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ServiceKit
import ServiceTestSupport
import Testing

@Suite("The gateway's signature binds an identity to one request for one service")
struct GatewaySignatureTests {
    static let secret = Array("signature-tests-internal-secret-0123456789".utf8)
    static let key = SymmetricKey(data: secret)

    /// A service named `booking` whose one route answers with the identity it was given.
    static func application() -> some ApplicationProtocol {
        let router = Router(context: ISO8601RequestContext.self)
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: GatewayIdentityMiddleware(secret: secret, service: ServiceName.booking, maxBodyBytes: 64))
        router.on("/api/v1/things/:id", method: .post) { _, context in context.identity.map { "\($0.userID) \($0.roles.sorted())" } ?? "anonymous" }
        router.on("/api/v1/things/:id", method: .get) { _, context in context.identity.map { "\($0.userID) \($0.roles.sorted())" } ?? "anonymous" }
        return Application(router: router)
    }

    static func request(
        service: String = ServiceName.booking, method: String = "POST", target: String = "/api/v1/things/1", body: String = #"{"n":1}"#,
        user: String = "alice", roles: [String] = ["customer"]
    ) -> SignedRequest {
        SignedRequest(
            service: service, method: method, target: target, bodyDigest: SignedRequest.digest(of: Array(body.utf8)),
            userID: user, roles: roles, requestID: "req-1"
        )
    }

    static func fields(for request: SignedRequest, signature: String) -> HTTPFields {
        [
            TestIdentity.user: request.userID ?? "", TestIdentity.roles: request.roles.joined(separator: ","),
            TestIdentity.requestID: request.requestID, TestIdentity.signature: signature,
        ]
    }

    static func problemType(_ response: TestResponse) -> String? {
        (try? JSONDecoder().decode(ProblemDetails.self, from: Data(buffer: response.body)))?.type
    }

    @Test("a signed request passes; the same signature on another path, method, body, service or user is refused")
    func boundToTheRequest() async throws {
        try await Self.application().test(.router) { client in
            let signed = Self.request()
            let signature = GatewaySignature.sign(signed, key: Self.key)
            let body = ByteBuffer(string: #"{"n":1}"#)
            let good = try await client.execute(uri: "/api/v1/things/1", method: .post, headers: Self.fields(for: signed, signature: signature), body: body)
            #expect(good.status == .ok)
            #expect(String(buffer: good.body) == #"alice ["customer"]"#)

            let replays: [(String, HTTPRequest.Method, HTTPFields, ByteBuffer?)] = [
                ("another path", .post, Self.fields(for: signed, signature: signature), body),
                ("another method", .get, Self.fields(for: signed, signature: signature), nil),
                ("another body", .post, Self.fields(for: signed, signature: signature), ByteBuffer(string: #"{"n":2}"#)),
                ("another user", .post, Self.fields(for: Self.request(user: "mallory"), signature: signature), body),
                ("more roles", .post, Self.fields(for: Self.request(roles: ["admin", "customer"]), signature: signature), body),
                ("signed for payments", .post, Self.fields(for: signed, signature: GatewaySignature.sign(Self.request(service: ServiceName.payments), key: Self.key)), body),
            ]
            for (index, (name, method, headers, requestBody)) in replays.enumerated() {
                let uri = index == 0 ? "/api/v1/things/2" : "/api/v1/things/1"
                let refused = try await client.execute(uri: uri, method: method, headers: headers, body: requestBody)
                #expect(refused.status == .unauthorized, "\(name)")
                #expect(Self.problemType(refused) == ProblemDetails.typeBase + "identity-invalid", "\(name)")
            }
        }
    }

    @Test("a signature is good for a short window only, and fields cannot be shifted across their boundaries")
    func windowAndFraming() async throws {
        let signed = Self.request()
        let now = Date()
        let old = GatewaySignature.sign(signed, key: Self.key, now: now.addingTimeInterval(-GatewaySignature.tolerance - 1))
        #expect(!GatewaySignature.verify(old, signed, key: Self.key, now: now))
        let recent = GatewaySignature.sign(signed, key: Self.key, now: now.addingTimeInterval(-GatewaySignature.tolerance + 5))
        #expect(GatewaySignature.verify(recent, signed, key: Self.key, now: now))
        #expect(GatewaySignature.tolerance <= 60)

        var shifted = signed
        shifted.method = "POS"
        shifted.target = "T" + signed.target
        #expect(!GatewaySignature.verify(GatewaySignature.sign(signed, key: Self.key), shifted, key: Self.key))
        var merged = signed
        merged.userID = "alice,customer"
        merged.roles = []
        #expect(!GatewaySignature.verify(GatewaySignature.sign(signed, key: Self.key), merged, key: Self.key))
        #expect(!GatewaySignature.verify(GatewaySignature.sign(signed, key: SymmetricKey(data: Array("another-secret-0123456789-0123456789".utf8))), signed, key: Self.key))
    }

    @Test("the signed message and header are the documented ones, computed independently; the fast signer agrees with the reference", arguments: [
        (user: String?.some("alice"), roles: ["admin", "customer"]), (user: nil, roles: []), (user: "bob", roles: ["customer"]),
    ])
    func pinnedFormat(user: String?, roles: [String]) {
        let body = Array(#"{"seats":2}"#.utf8)
        let signed = SignedRequest(
            service: "booking", method: "POST", target: "/api/v1/events/e1/reserve?x=1", bodyDigest: SignedRequest.digest(of: body),
            userID: user, roles: roles, requestID: "0f0e0d0c-aaaa-4bbb-8ccc-0123456789ab"
        )
        let joinedRoles = roles.joined(separator: ",")
        let fields = ["1767225600", "booking", "POST", "/api/v1/events/e1/reserve?x=1", signed.bodyDigest, user ?? "", joinedRoles, signed.requestID]
        let message = "booking-rush-gateway-v2\n" + fields.map { "\($0.utf8.count):\($0)" }.joined()
        let mac = HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: Self.key)
        let hex = Array(mac).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let expected = "t=1767225600,v2=" + hex

        #expect(signed.bodyDigest == Array(SHA256.hash(data: body)).map { String(format: "%02x", $0) }.joined())
        #expect(GatewaySigner(key: Self.key).sign(signed, timestamp: 1_767_225_600) == expected)
        #expect(GatewaySignature.sign(signed, key: Self.key, now: Date(timeIntervalSince1970: 1_767_225_600)) == expected)
        #expect(GatewaySignature.verify(expected, signed, key: Self.key, now: Date(timeIntervalSince1970: 1_767_225_630)))
    }

    @Test("the prepared verifier agrees with the reference: fresh, stale, tampered, rotated and malformed headers")
    func preparedVerifier() {
        let signed = Self.request()
        let signer = GatewaySigner(key: Self.key)
        let now = Date()
        let good = GatewaySignature.sign(signed, key: Self.key, now: now)
        let other = GatewaySignature.sign(signed, key: SymmetricKey(data: Array("another-secret-0123456789-0123456789".utf8)), now: now)
        let otherCode = other.split(separator: "v2=").last.map(String.init) ?? ""
        let goodCode = good.split(separator: "v2=").last.map(String.init) ?? ""
        var moved = signed
        moved.target = "/api/v1/things/2"
        let cases: [(String, SignedRequest, Date, Bool)] = [
            (good, signed, now, true),
            (good, signed, now.addingTimeInterval(GatewaySignature.tolerance + 2), false),
            (good, moved, now, false),
            (other, signed, now, false),
            ("t=\(Int(now.timeIntervalSince1970)),v2=\(otherCode),v2=\(goodCode)", signed, now, true),
            ("t=\(Int(now.timeIntervalSince1970)), v2=\(goodCode.uppercased())", signed, now, true),
            ("t=\(Int(now.timeIntervalSince1970)),v2=\(goodCode.dropLast())", signed, now, false),
            ("t=\(Int(now.timeIntervalSince1970)),v1=\(goodCode)", signed, now, false),
            ("v2=\(goodCode)", signed, now, false),
            ("t=soon,v2=\(goodCode)", signed, now, false),
            ("", signed, now, false),
            (",,=,t=,v2=zz", signed, now, false),
        ]
        for (index, (header, request, at, valid)) in cases.enumerated() {
            #expect(signer.verify(header, request, now: at) == valid, "case \(index): \(header)")
            #expect(GatewaySignature.verify(header, request, key: Self.key, now: at) == valid, "reference, case \(index)")
        }
        #expect(hexDecoded("00ff7Fa0".utf8) == [0x00, 0xFF, 0x7F, 0xA0])
        #expect(hexDecoded("0".utf8) == nil)
        #expect(hexDecoded("0g".utf8) == nil)
        #expect(hexDecoded(String(repeating: "ab", count: 65).utf8) == nil)
    }

    @Test("decimal and hexadecimal digits written without String agree with String's", arguments: [
        Int64.min, -1_000_000, -10, -9, -1, 0, 1, 9, 10, 99, 100, 1_767_225_600, Int64.max,
    ])
    func digits(value: Int64) {
        var bytes: [UInt8] = []
        bytes.appendDecimal(value)
        #expect(String(decoding: bytes, as: UTF8.self) == String(value))
        #expect(DecimalDigits.count(of: value) == String(value).utf8.count)
        let raw = withUnsafeBytes(of: value.bigEndian) { Array($0) }
        let expected = raw.map { String(format: "%02x", $0) }.joined()
        #expect(raw.hexString == expected)
        #expect(raw.withUnsafeBytes { $0.hexString } == expected)
    }

    @Test("no identity passes as anonymous; identity fields without a valid signature, or an oversized body, are refused")
    func missingAndOversized() async throws {
        try await Self.application().test(.router) { client in
            let anonymous = try await client.execute(uri: "/api/v1/things/1", method: .get)
            #expect(String(buffer: anonymous.body) == "anonymous")
            let unsigned = try await client.execute(uri: "/api/v1/things/1", method: .get, headers: TestIdentity.fields("alice", roles: ["customer"]))
            #expect(unsigned.status == .unauthorized)
            let signing = GatewaySigningClient(client, secret: Self.secret, service: ServiceName.booking)
            let signedGet = try await signing.execute(uri: "/api/v1/things/1", method: .get, headers: TestIdentity.fields("alice", roles: ["customer"]))
            #expect(String(buffer: signedGet.body) == #"alice ["customer"]"#)
            let large = try await signing.execute(
                uri: "/api/v1/things/1", method: .post, headers: TestIdentity.fields("alice", roles: ["customer"]), body: ByteBuffer(string: String(repeating: "x", count: 65))
            )
            #expect(large.status == .contentTooLarge)
        }
    }

    @Test("a service calling another signs the call it makes")
    func serviceToService() async throws {
        try await Self.application().test(.router) { client in
            var headers = HTTPFields()
            let fields = GatewayIdentity(userID: "payments-service", roles: ["service"])
                .signedFields(key: Self.key, service: ServiceName.booking, method: "GET", target: "/api/v1/things/7")
            for (name, value) in fields { headers[HTTPField.Name(name)!] = value }
            let answer = try await client.execute(uri: "/api/v1/things/7", method: .get, headers: headers)
            #expect(String(buffer: answer.body) == #"payments-service ["service"]"#)
            let elsewhere = try await client.execute(uri: "/api/v1/things/8", method: .get, headers: headers)
            #expect(elsewhere.status == .unauthorized)
        }
    }

    @Test("a base URL splits into its origin and the path the service sees")
    func baseURL() {
        let mounted = ServiceBaseURL("http://10.0.0.5:8081/booking/")
        #expect(mounted.origin == "http://10.0.0.5:8081")
        #expect(mounted.target("/api/v1/x") == "/booking/api/v1/x")
        #expect(mounted.url(target: mounted.target("/api/v1/x")) == "http://10.0.0.5:8081/booking/api/v1/x")
        #expect(ServiceBaseURL("http://booking:8081").target("/x") == "/x")
    }

    @Test("a base URL is http or https with a host, and at most a port (1-65535) and a path")
    func validBaseURL() {
        for url in ["http://booking:8081", "https://10.0.0.5/booking/", "HTTP://[::1]:8082", "http://payments"] {
            #expect(ServiceBaseURL.isValid(url), "\(url)")
        }
        for url in ["localhost:8082", "booking", "ftp://booking", "http://", "http:///x", "http://u:p@booking", "http://booking/?q=1", "http://booking/#f", "", "http://booking:0", "http://booking:80810"] {
            #expect(!ServiceBaseURL.isValid(url), "\(url)")
        }
    }
}
