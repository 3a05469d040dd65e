import Crypto
import Foundation

/// Stripe's signature scheme: a header `t=<unix seconds>,v1=<hex HMAC-SHA256>` whose MAC covers
/// a message that includes the timestamp, so a signature cannot be moved to another time.
/// Several entries of the scheme (`v1=`) may stand in one header (a key rotation); any one that
/// matches counts.
public enum TimestampedSignature {
    /// The header value signing `message(timestamp)` at `now`.
    public static func sign(key: SymmetricKey, scheme: String = "v1", now: Date = Date(), message: (Int) -> Data) -> String {
        let timestamp = Int(now.timeIntervalSince1970)
        return "t=\(timestamp),\(scheme)=" + HMAC<SHA256>.authenticationCode(for: message(timestamp), using: key).hexString
    }

    /// Whether `header` signs `message(t)` with `key` under `scheme`, its `t` within `tolerance`
    /// of `now` (constant-time comparison of the MAC).
    public static func verify(
        _ header: String, key: SymmetricKey, scheme: String = "v1", tolerance: TimeInterval, now: Date = Date(), message: (Int) -> Data
    ) -> Bool {
        var timestamp: Int?
        var signatures: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let name = pair[0].trimmingCharacters(in: .whitespaces)
            if name == "t" { timestamp = Int(pair[1]) }
            if name == scheme, let bytes = hexBytes(pair[1]) { signatures.append(bytes) }
        }
        guard let timestamp, !signatures.isEmpty, abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return false }
        let signed = message(timestamp)
        return signatures.contains { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: key) }
    }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        hexDecoded(text.utf8)
    }
}

/// The signature on the payments service's webhooks (`Booking-Rush-Signature`), over
/// `"<t>.<raw body>"` as Stripe signs its own.
public enum WebhookSignature {
    public static let header = "Booking-Rush-Signature"
    /// The secret used when `WEBHOOK_SECRET` is not set: for local development only.
    public static let developmentSecret = Array("booking-rush-development-webhook-secret!".utf8)
    /// How old a delivery may be before it is refused as a replay.
    public static let tolerance: TimeInterval = 300

    public static func sign(body: some Collection<UInt8>, key: SymmetricKey, now: Date = Date()) -> String {
        TimestampedSignature.sign(key: key, now: now) { Data("\($0).".utf8) + Data(body) }
    }

    public static func verify(_ header: String, body: some Collection<UInt8>, key: SymmetricKey, now: Date = Date()) -> Bool {
        TimestampedSignature.verify(header, key: key, tolerance: tolerance, now: now) { Data("\($0).".utf8) + Data(body) }
    }
}
