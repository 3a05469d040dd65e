import Hummingbird
import Logging

/// Renders every error that leaves a route as `application/problem+json`: typed errors by
/// their `ProblemConvertible` mapping, Hummingbird's own `HTTPError`s (no route, body too
/// large, undecodable body) by their status, and anything else as a 500 with nothing leaked.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ProblemDetails {
            throw error
        } catch let error as any ProblemConvertible {
            throw error.problem
        } catch let error as HTTPError {
            throw ProblemDetails.status(error.status, detail: error.body, headers: error.headers)
        } catch let error as any HTTPResponseError {
            throw ProblemDetails.status(error.status)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            throw ProblemDetails.unhandled
        }
    }
}
