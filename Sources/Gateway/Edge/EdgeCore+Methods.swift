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
            guard let named = route.pattern.methods, route.pattern.matches(path: path) else { continue }
            methods.formUnion(named)
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
}
