import NIOHTTP1

extension HTTPRequestHead {
    /// Whether NIO's HTTP/1 decoder stops after this request, as it does for one asking to switch
    /// protocols (RFC 9110 §7.8): `CONNECT`, or an `Upgrade` field with `upgrade` among the
    /// `Connection` tokens, as llhttp decides. The bytes after it are left for the new protocol,
    /// and the decoder never parses again (apple/swift-nio#2570): a server that declines the
    /// switch must replace the decoder or end the connection after its answer.
    public var stopsRequestParsing: Bool {
        if method == .CONNECT { return true }
        guard headers.contains(name: "upgrade") else { return false }
        return headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
    }
}
