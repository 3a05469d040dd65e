import Crypto
import Foundation
import Tokens

/// Signed, anonymous visitor identities for people who are not logged in.
///
/// A ticket is `v1.<id>.<HMAC-SHA256(secret, "v1.<id>")>` in base64url; the gateway issues it
/// as a cookie for browsers and in the join response for API clients. Visitor ids from tickets
/// are prefixed `t:`, those of logged-in users `u:`, so the two can never collide.
public struct VisitorTickets: Sendable {
    let key: SymmetricKey

    /// - Parameter secret: at least 32 bytes, shared by every gateway.
    public init(secret: [UInt8]) {
        precondition(secret.count >= 32, "the visitor-ticket secret must be at least 32 bytes")
        self.key = SymmetricKey(data: secret)
    }

    /// A new ticket and the visitor id it stands for.
    public func issue() -> (ticket: String, visitor: String) {
        let id = Data((0..<16).map { _ in UInt8.random(in: 0 ... .max) }).base64URLEncodedString()
        let payload = "v1.\(id)"
        return ("\(payload).\(signature(of: payload))", "t:\(id)")
    }

    /// The visitor id of a genuine ticket; nil for anything forged or malformed.
    public func visitor(from ticket: String) -> String? {
        let parts = ticket.split(separator: ".", omittingEmptySubsequences: false)
        guard ticket.utf8.count <= 128, parts.count == 3, parts[0] == "v1", parts[1].utf8.count == 22,
              let mac = Data(base64URLEncoded: parts[2])
        else { return nil }
        let payload = "v1.\(parts[1])"
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(payload.utf8), using: key) else { return nil }
        return "t:\(parts[1])"
    }

    private func signature(of payload: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)).base64URLEncodedString()
    }
}
