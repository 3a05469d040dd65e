import Crypto
import Foundation
import ServiceKit
import Tokens

/// Signed, anonymous visitor identities for people who are not logged in.
///
/// A ticket is `v1.<id>.<HMAC-SHA256(secret, "v1.<id>")>` in base64url; the gateway issues it
/// as a cookie for browsers and in the join response for API clients. Visitor ids from tickets
/// are prefixed `t:`, those of logged-in users `u:`, so the two can never collide.
public struct VisitorTickets: Sendable {
    /// HMAC-SHA256 keyed with the secret once.
    let keyed: SHA256HMAC

    /// - Parameter secret: at least 32 bytes, shared by every gateway.
    public init(secret: [UInt8]) {
        precondition(secret.count >= 32, "the visitor-ticket secret must be at least 32 bytes")
        self.keyed = SHA256HMAC(secret: secret)
    }

    /// A new ticket and the visitor id it stands for.
    public func issue() -> (ticket: String, visitor: String) {
        let id = SecureRandom.with16Bytes { Base64URL.encode($0) }
        let payload = "v1." + id
        return (payload + "." + keyed.code { $0.update(utf8: payload) }.withUnsafeBytes { Base64URL.encode($0) }, "t:" + id)
    }

    /// The visitor id of a genuine ticket; nil for anything forged or malformed.
    public func visitor(from ticket: String) -> String? {
        let bytes = ticket.utf8
        guard bytes.count <= 128, bytes.starts(with: "v1.".utf8) else { return nil }
        let idStart = bytes.index(bytes.startIndex, offsetBy: 3)
        guard let dot = bytes[idStart...].firstIndex(of: UInt8(ascii: ".")), bytes.distance(from: idStart, to: dot) == 22 else { return nil }
        let macText = ticket[bytes.index(after: dot)...]
        guard !macText.utf8.contains(UInt8(ascii: ".")), let mac = Base64URL.decode(macText),
              keyed.code({ $0.update(utf8: ticket[..<dot]) }).isCode(mac)
        else { return nil }
        return "t:" + ticket[idStart..<dot]
    }
}
