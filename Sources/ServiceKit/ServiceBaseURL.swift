import Foundation

/// A service's base URL (`http://booking:8081`, `http://10.0.0.5/booking`) split into its
/// origin and its path, so a signed call knows the request target the service will see.
public struct ServiceBaseURL: Sendable, Hashable {
    /// Scheme and authority: `http://booking:8081`.
    public let origin: String
    /// The path the service is mounted under, without a trailing slash; empty at the root.
    public let basePath: String

    public init(_ url: String) {
        var url = Substring(url)
        while url.hasSuffix("/") { url = url.dropLast() }
        let authorityStart = url.range(of: "://")?.upperBound ?? url.startIndex
        let pathStart = url[authorityStart...].firstIndex(of: "/") ?? url.endIndex
        self.origin = String(url[..<pathStart])
        self.basePath = String(url[pathStart...])
    }

    /// Whether `url` can be a service's base URL: `http://` or `https://`, a host, an optional
    /// port (1 to 65535) and path, and nothing else (no user, query or fragment).
    public static func isValid(_ url: String) -> Bool {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = parts.host, !host.isEmpty, parts.port.map({ (1...65_535).contains($0) }) ?? true
        else { return false }
        return parts.user == nil && parts.password == nil && parts.query == nil && parts.fragment == nil
    }

    /// The request target for `path` (which starts with `/`).
    public func target(_ path: String) -> String { basePath + path }

    /// The full URL of a request `target`.
    public func url(target: String) -> String { origin + target }
}
