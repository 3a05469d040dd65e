import NIOCore

/// One upstream of a route, parsed once at start: where to connect and what to send as `Host`.
struct UpstreamTarget: Sendable, Hashable {
    /// `host:port`, the pool's key.
    let key: String
    let host: String
    let port: Int
    /// The `Host` field sent upstream.
    let authority: String
    /// A path the upstream URL carries (`http://h:p/base`), put before every request's URI.
    let basePath: String
    /// The route's bound on requests in hand to this upstream (`max_connections`), if it has one.
    let slots: Slots?

    /// Parses `http://host[:port][/base]`; nil for anything else (TLS upstreams are not proxied).
    /// With `maxConnections`, the target gets its own ``Slots``.
    init?(_ url: String, maxConnections: Int? = nil) {
        guard url.hasPrefix("http://") else { return nil }
        var rest = url.dropFirst("http://".count)
        var base = ""
        if let slash = rest.firstIndex(of: "/") {
            base = String(rest[slash...])
            rest = rest[..<slash]
            while base.hasSuffix("/") { base.removeLast() }
        }
        guard !rest.isEmpty else { return nil }
        var host = String(rest)
        var port = 80
        if let bracket = rest.lastIndex(of: "]") {
            host = String(rest[rest.index(after: rest.startIndex)..<bracket])
            let after = rest[rest.index(after: bracket)...]
            if after.hasPrefix(":") { guard let parsed = Int(after.dropFirst()) else { return nil }; port = parsed }
        } else if let colon = rest.lastIndex(of: ":") {
            guard let parsed = Int(rest[rest.index(after: colon)...]) else { return nil }
            host = String(rest[..<colon])
            port = parsed
        }
        guard !host.isEmpty, (1...65_535).contains(port) else { return nil }
        self.host = host
        self.port = port
        self.authority = String(rest)
        self.key = "\(host):\(port)"
        self.basePath = base
        self.slots = maxConnections.map { Slots(maximum: $0) }
    }
}
