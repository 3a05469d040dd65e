import NIOHTTP1

/// The gateway's entry in `Via` (RFC 9110 §7.6.3), added to every request it forwards, and the
/// loop check it makes possible: a request whose `Via` already names this gateway has come back
/// to it through an upstream (a route pointing at the gateway itself, or at a balancer in front
/// of it), and is refused with 508 rather than forwarded again until connections run out.
struct ProxyVia: Sendable {
    /// How this gateway names itself: its instance name, with every character a `Via` entry
    /// cannot carry made `-` (`host:port` stays as it is).
    let receivedBy: String
    /// The field value the gateway adds: `1.1 <receivedBy>`.
    let value: String

    init(instanceName: String) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:[]!$&'*+^`|".utf8)
        let bytes = instanceName.utf8.prefix(128).map { allowed.contains($0) ? $0 : UInt8(ascii: "-") }
        receivedBy = bytes.isEmpty ? "booking-rush" : String(decoding: bytes, as: UTF8.self)
        value = "1.1 " + receivedBy
    }

    /// Whether `headers` carry a `Via` entry of this gateway: the request went through it before.
    func isLoop(_ headers: HTTPHeaders) -> Bool {
        headers.contains(name: "via") && headers[canonicalForm: "via"].contains { Self.receivedBy(of: $0) == receivedBy[...] }
    }

    /// The `received-by` part of one `Via` entry (`1.1 host:port (comment)` → `host:port`).
    private static func receivedBy(of entry: Substring) -> Substring? {
        let parts = entry.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        return parts.count >= 2 ? parts[1] : nil
    }
}
