import HTTPTypes
import NIOCore

/// A CIDR block such as `10.0.0.0/8` or `::1/128`.
struct AddressBlock: Sendable, Hashable {
    let bytes: [UInt8]
    let prefixLength: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let address = parts.first, let bytes = Self.bytes(of: String(address)) else { return nil }
        let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
        guard let length, (0...bytes.count * 8).contains(length) else { return nil }
        self.bytes = bytes
        self.prefixLength = length
    }

    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == bytes.count else { return false }
        var remaining = prefixLength
        for index in bytes.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// The 4 or 16 bytes of a textual IPv4 or IPv6 address.
    static func bytes(of text: String) -> [UInt8]? {
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        switch address {
        case .v4(let v4): return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6): return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        default: return nil
        }
    }
}

/// Works out the client's address: the TCP peer, unless the peer is a trusted proxy, in which
/// case the right-most untrusted entry of `X-Forwarded-For`.
struct ClientAddressResolver: Sendable {
    let trusted: [AddressBlock]

    init(trustedProxies: [String]) {
        self.trusted = trustedProxies.compactMap(AddressBlock.init)
    }

    func isTrusted(_ address: String) -> Bool {
        guard !trusted.isEmpty, let bytes = AddressBlock.bytes(of: address) else { return false }
        return trusted.contains { $0.contains(bytes) }
    }

    func clientAddress(peer: SocketAddress?, headers: HTTPFields) -> String {
        let peerAddress = peer?.ipAddress ?? "unknown"
        return clientAddress(peer: peerAddress, peerIsTrusted: isTrusted(peerAddress), forwardedFor: headers[values: .xForwardedFor])
    }

    /// The client's address given the peer's and the `X-Forwarded-For` values.
    func clientAddress(peer peerAddress: String, peerIsTrusted: Bool, forwardedFor: [String]) -> String {
        guard peerIsTrusted else { return peerAddress }
        let chain = forwardedFor
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in chain.reversed() where !isTrusted(hop) {
            return AddressBlock.bytes(of: hop) != nil ? hop : peerAddress
        }
        return chain.first ?? peerAddress
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
    static let xRequestID = HTTPField.Name("X-Request-Id")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    static let queuePass = HTTPField.Name("Queue-Pass")!
    static let rateLimit = HTTPField.Name("RateLimit")!
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
    static let gatewayUserID = HTTPField.Name("X-Gateway-User-Id")!
    static let gatewayUserRoles = HTTPField.Name("X-Gateway-User-Roles")!
    static let gatewayClientIP = HTTPField.Name("X-Gateway-Client-Ip")!
    static let gatewaySignature = HTTPField.Name("X-Gateway-Signature")!
}
