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
        guard let entries = entries(of: header, scheme: scheme, tolerance: tolerance, now: now) else { return false }
        let signed = message(entries.timestamp)
        return entries.codes.contains { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: key) }
    }

    /// The `t` of `header` and every MAC it carries under `scheme` (hex-decoded), read over its
    /// bytes; nil without a `t`, without a MAC, or with `t` further than `tolerance` from `now`.
    /// Entries with an empty name or value are skipped; names are trimmed of whitespace.
    static func entries(of header: String, scheme: String, tolerance: TimeInterval, now: Date) -> (timestamp: Int, codes: [[UInt8]])? {
        var timestamp: Int?
        var codes: [[UInt8]] = []
        for part in header.utf8.split(separator: UInt8(ascii: ",")) {
            guard let equals = part.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let rawName = Substring(part[..<equals])
            let value = part[part.index(after: equals)...]
            guard !rawName.isEmpty, !value.isEmpty else { continue }
            let plain = rawName.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
            let name = plain ? rawName : Substring(rawName.trimmingCharacters(in: .whitespaces))
            if name == "t" { timestamp = Int(Substring(value)) }
            if name == scheme, let code = hexDecoded(value) { codes.append(code) }
        }
        guard let timestamp, !codes.isEmpty, abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return nil }
        return (timestamp, codes)
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
