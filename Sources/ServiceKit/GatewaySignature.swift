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
        TimestampedSignature.sign(key: key, now: now) { payload(timestamp: $0, userID: userID, roles: roles, requestID: requestID) }
    }

    /// Whether `header` signs exactly this identity, within the time tolerance (constant-time compare).
    public static func verify(_ header: String, userID: String?, roles: [String], requestID: String, key: SymmetricKey, now: Date = Date()) -> Bool {
        TimestampedSignature.verify(header, key: key, tolerance: tolerance, now: now) {
            payload(timestamp: $0, userID: userID, roles: roles, requestID: requestID)
        }
    }
}

/// Signs identities for one key with the key schedule done once (the gateway signs every
/// proxied request); the header is the one ``GatewaySignature/sign(userID:roles:requestID:key:now:)`` makes.
public struct GatewaySigner: Sendable {
    private let prepared: HMAC<SHA256>

    public init(key: SymmetricKey) {
        self.prepared = HMAC<SHA256>(key: key)
    }

    /// The header value for this identity at `timestamp` (Unix seconds).
    public func sign(userID: String?, roles: [String], requestID: String, timestamp: Int = Int(Date().timeIntervalSince1970)) -> String {
        var mac = prepared
        var payload = "\(timestamp).\(userID ?? "").\(roles.joined(separator: ",")).\(requestID)"
        payload.withUTF8 { mac.update(data: UnsafeRawBufferPointer($0)) }
        return "t=\(timestamp),v1=" + mac.finalize().hexString
    }
}
