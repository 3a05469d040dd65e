import HTTPTypes
import NIOCore
import NIOHTTP1
import ServiceKit

extension EdgeCore {
    /// The edge's answer to a request no route takes although a proxied route takes its path
    /// with other methods: OPTIONS is a 204, anything else a 405 `method-not-allowed` problem,
    /// both with `Allow` naming those methods (``AllowField``). Nil when no proxied
    /// route takes the path: the router answers (its own paths have their 405s too). Returns the
    /// answer and the route it is counted under.
    func wrongMethodAnswer(for head: HTTPRequestHead) -> (response: EdgeResponse, route: String)? {
        let path = head.uri.pathWithoutQuery
        var methods = Set<String>()
        var counted: String?
        for route in routes where !route.isLocal {
            guard route.pattern.matches(path: path) else { continue }
            methods.formUnion(route.pattern.methods ?? Set(RoutePattern.unnamedMethods))
            counted = counted ?? route.name
        }
        guard let counted else { return nil }
        let allow = AllowField.value(for: methods)
        if head.method == .OPTIONS {
            var headers = HTTPHeaders()
            headers.add(name: "allow", value: allow)
            return (EdgeResponse(status: .noContent, headers: headers, body: ByteBuffer()), counted)
        }
        return (EdgeResponse.problem(for: ProblemDetails.methodNotAllowed(allow: allow), path: path), counted)
    }

    /// The route `OPTIONS *` is counted under.
    static let serverWideRoute = "*"
    /// Every method the gateway serves, as `OPTIONS *` answers them.
    private static let serverWideAllow = AllowField.value(for: AllowField.order)

    /// The answer to `OPTIONS *` (RFC 9110 §9.3.7), which asks about the server rather than a
    /// resource: a 204 whose `Allow` names every method the gateway serves. Nil for any other
    /// request (the head check refuses `*` with another method).
    func serverWideAnswer(for head: HTTPRequestHead) -> EdgeResponse? {
        guard head.method == .OPTIONS, head.uri == "*" else { return nil }
        var headers = HTTPHeaders()
        headers.add(name: "allow", value: Self.serverWideAllow)
        return EdgeResponse(status: .noContent, headers: headers, body: ByteBuffer())
    }
}
