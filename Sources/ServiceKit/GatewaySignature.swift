import Crypto
import Foundation

/// `X-Gateway-Signature: t=<unix>,v1=<hex HMAC-SHA256>` over the identity the gateway vouches
/// for (user id, roles, request id), so a service reached around the gateway can tell forged
/// identity fields from real ones.
public enum GatewaySignature {
    /// How far a signature's timestamp may be from now.
    public static let tolerance: TimeInterval = 300

    /// The secret used when `INTERNAL_SECRET` is not set: for local development only.
    public static let developmentSecret = Array("booking-rush-development-internal-secret".utf8)

    static func payload(timestamp: Int, userID: String?, roles: [String], requestID: String) -> Data {
        Data("\(timestamp).\(userID ?? "").\(roles.joined(separator: ",")).\(requestID)".utf8)
    }

    /// The header value for this identity.
    public static func sign(userID: String?, roles: [String], requestID: String, key: SymmetricKey, now: Date = Date()) -> String {
        let timestamp = Int(now.timeIntervalSince1970)
        let mac = HMAC<SHA256>.authenticationCode(for: payload(timestamp: timestamp, userID: userID, roles: roles, requestID: requestID), using: key)
        return "t=\(timestamp),v1=" + mac.hexString
    }

    /// Whether `header` signs exactly this identity, within the time tolerance (constant-time compare).
    public static func verify(_ header: String, userID: String?, roles: [String], requestID: String, key: SymmetricKey, now: Date = Date()) -> Bool {
        var timestamp: Int?
        var signature: [UInt8]?
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int(pair[1]) }
            if pair[0] == "v1" { signature = hexBytes(pair[1]) }
        }
        guard let timestamp, let signature, abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            signature, authenticating: payload(timestamp: timestamp, userID: userID, roles: roles, requestID: requestID), using: key
        )
    }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
