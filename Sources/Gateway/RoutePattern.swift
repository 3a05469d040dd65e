import ServiceKit

/// Which requests a route takes: a path prefix whose segments may be `*` (any one segment),
/// matched at a segment boundary, and optionally a set of methods.
///
/// `/api/v1/bookings` takes `/api/v1/bookings` and everything under it; `/api/v1/queue/*/join`
/// takes the join of every event. A `GET` route takes `HEAD` too.
public struct RoutePattern: Sendable, Hashable {
    public let prefix: String
    /// Upper-case methods; nil for every method.
    public let methods: Set<String>?
    private let segments: [Substring]?

    public init(prefix: String, methods: [String]? = nil) {
        self.prefix = prefix
        self.methods = methods.map { Set($0.map { $0.uppercased() }) }
        let parts = prefix.split(separator: "/", omittingEmptySubsequences: true)
        self.segments = parts.contains("*") ? parts : nil
    }

    /// Whether a request with `method` for `path` (without its query) falls under the route.
    public func matches(method: String, path: Substring) -> Bool {
        takes(method: method) && matches(path: path)
    }

    /// Whether the route takes `method`: HEAD with GET; every method but TRACE when it names none.
    /// TRACE sends the request back as the upstream received it, `Cookie` and `Authorization`
    /// included, which a script on another site could read (cross-site tracing): a route that
    /// wants it names it.
    public func takes(method: String) -> Bool {
        guard let methods else { return method != "TRACE" }
        return methods.contains(method) || (method == "HEAD" && methods.contains("GET"))
    }

    /// The methods a 405 names for a route naming none, which refuses only TRACE.
    static let unnamedMethods = AllowField.order

    /// Whether `path` (without its query) falls under the route, whatever the method.
    public func matches(path: Substring) -> Bool {
        guard let segments else { return Self.matchesPrefix(prefix, path) }
        let slash = UInt8(ascii: "/")
        var rest = path.utf8.drop { $0 == slash }
        for segment in segments {
            let end = rest.firstIndex(of: slash) ?? rest.endIndex
            let found = rest[..<end]
            guard !found.isEmpty, segment == "*" || found.elementsEqual(segment.utf8) else { return false }
            rest = rest[end...].drop { $0 == slash }
        }
        return true
    }

    /// More specific patterns are tried first: more segments, then methods named, then longer.
    static func isMoreSpecific(_ a: RoutePattern, than b: RoutePattern) -> Bool {
        let (sa, sb) = (a.segmentCount, b.segmentCount)
        if sa != sb { return sa > sb }
        if (a.methods != nil) != (b.methods != nil) { return a.methods != nil }
        return a.prefix.utf8.count > b.prefix.utf8.count
    }

    private var segmentCount: Int {
        segments?.count ?? prefix.split(separator: "/", omittingEmptySubsequences: true).count
    }

    private static func matchesPrefix(_ prefix: String, _ path: Substring) -> Bool {
        guard path.utf8.starts(with: prefix.utf8) else { return false }
        if prefix.hasSuffix("/") || path.utf8.count == prefix.utf8.count { return true }
        return path.utf8[path.utf8.index(path.utf8.startIndex, offsetBy: prefix.utf8.count)] == UInt8(ascii: "/")
    }
}
