import HTTPTypes
import Hummingbird

/// What a path answers a method it has no route for (RFC 9110 §9.3.7, §15.5.6): the value of
/// its `Allow` field, and the 405 problem that carries it.
public enum AllowField {
    /// The order `Allow` names methods in; others follow, sorted.
    public static let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// The methods a path whose routes take `routed` allows, in order: those, HEAD wherever GET
    /// is, and OPTIONS, which every such path answers.
    public static func methods(for routed: some Sequence<String>) -> [String] {
        var allowed = Set(routed)
        if allowed.contains("GET") { allowed.insert("HEAD") }
        allowed.insert("OPTIONS")
        return order.filter(allowed.contains) + allowed.subtracting(order).sorted()
    }

    /// The `Allow` value of a path whose routes take `routed` (``methods(for:)``).
    public static func value(for routed: some Sequence<String>) -> String {
        methods(for: routed).joined(separator: ", ")
    }
}

extension ProblemDetails {
    /// The 405 `method-not-allowed` problem of a path whose `Allow` value is `allow`.
    public static func methodNotAllowed(allow: String) -> ProblemDetails {
        status(.methodNotAllowed, detail: "This path answers \(allow).", headers: [.allow: allow])
    }
}
