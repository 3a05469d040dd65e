import HTTPTypes
import Hummingbird
import Logging
import ServiceKit

/// Gives every request an id (the client's `X-Request-Id` when sane), logs with it, and
/// returns it on every response, problems included.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = ProxyHeaders.requestID(from: request.headers)
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestID)
        context.requestID = requestID
        do {
            var response = try await next(request, context)
            response.headers[.xRequestID] = requestID
            return response
        } catch var problem as ProblemDetails {
            problem.headers[.xRequestID] = requestID
            throw problem
        }
    }
}
