import Crypto
import HTTPTypes
import Hummingbird
import ServiceKit

/// Admits only requests bearing the admin token; compares digests in constant time.
struct AdminAuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    private let tokenDigest: SHA256.Digest

    init(token: String) {
        self.tokenDigest = SHA256.hash(data: Array(token.utf8))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authorization = request.headers[.authorization] else {
            throw Self.unauthorized("The admin API needs `Authorization: Bearer <admin token>`.")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Self.unauthorized("The admin API takes a Bearer token.")
        }
        // swift-crypto's digest equality is constant-time.
        guard SHA256.hash(data: Array(parts[1].utf8)) == tokenDigest else {
            throw Self.unauthorized("The admin token is not valid.")
        }
        return try await next(request, context)
    }

    static func unauthorized(_ detail: String) -> ProblemDetails {
        GatewayProblem.make(.unauthorized, "unauthorized", "Unauthorized", detail, headers: [.wwwAuthenticate: "Bearer realm=\"booking-rush-admin\""])
    }
}
