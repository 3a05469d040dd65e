import HTTPTypes
import Hummingbird
import ServiceKit

/// Runs `next` and tells `record` the status its client gets: the response's, a typed error's
/// problem's (``ProblemMiddleware`` turns it into that answer further out), an HTTP error's, or
/// 500 for any other error (which is thrown on either way). What the router's counting
/// middlewares (traffic window, access log, the admin API's audit) share.
func recordingStatus(_ next: () async throws -> Response, _ record: (HTTPResponse.Status) -> Void) async throws -> Response {
    do {
        let response = try await next()
        record(response.status)
        return response
    } catch let error as any ProblemConvertible {
        record(error.problem.status)
        throw error
    } catch let error as any HTTPResponseError {
        record(error.status)
        throw error
    } catch {
        record(.internalServerError)
        throw error
    }
}
