import HTTPTypes
import Hummingbird

extension Router {
    /// The methods every routed path answers, by its routes or else by a 405 (OPTIONS: a 204).
    static var answeredMethods: [HTTPRequest.Method] { [.get, .head, .post, .put, .patch, .delete, .options, .trace] }

    /// Makes every routed path answer the methods it has no route for: `405 Method Not Allowed`
    /// (a project problem) with an `Allow` field naming the path's methods, and OPTIONS with
    /// `204 No Content` and the same `Allow` (``AllowField``). Without it such a request is a
    /// 404, as if the path did not exist.
    ///
    /// Call it once every route is added: the answers are built from the routes present then,
    /// through the middleware added before them (problems, metrics under the path's route).
    /// HEAD counts as allowed wherever GET is, so routers are expected to be built with
    /// `.autoGenerateHeadEndpoints`.
    public func addMethodNotAllowedAnswers() {
        var paths: [(path: RouterPath, methods: Set<HTTPRequest.Method>)] = []
        for route in routes {
            if let index = paths.firstIndex(where: { $0.path.description == route.path.description }) {
                paths[index].methods.insert(route.method)
            } else {
                paths.append((route.path, [route.method]))
            }
        }
        for (path, methods) in paths {
            let allowed = AllowField.methods(for: methods.map(\.rawValue))
            let allow = allowed.joined(separator: ", ")
            for method in Self.answeredMethods where !allowed.contains(method.rawValue) {
                on(path, method: method) { _, _ -> Response in throw ProblemDetails.methodNotAllowed(allow: allow) }
            }
            if !methods.contains(.options) {
                on(path, method: .options) { _, _ in Response(status: .noContent, headers: [.allow: allow]) }
            }
        }
    }
}
