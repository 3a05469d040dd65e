import Crypto
import HTTPTypes
import Hummingbird
import ServiceKit

/// Admits requests bearing the admin token (compared as digests, in constant time) or an access
/// token of a user with the `admin` role; a valid token without the role gets 403. Every admitted
/// change (any method but GET and HEAD) is logged at notice level with who made it (`admin-token`
/// or the user), its method, path and status, and the request id: the record of who set a release
/// rate, closed a room or reloaded the routes. Refused requests go to ``AdminRefusals``.
struct AdminAuthenticationMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    private let tokenDigest: SHA256.Digest
    private let tokens: AccessTokens?
    private let refusals: AdminRefusals
    /// Where the client's address is worked out (the trusted proxies in force).
    private let routeTable: LiveRouteTable

    init(token: String, tokens: AccessTokens?, refusals: AdminRefusals, routeTable: LiveRouteTable) {
        self.tokenDigest = SHA256.hash(data: Array(token.utf8))
        self.tokens = tokens
        self.refusals = refusals
        self.routeTable = routeTable
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let refuse = { (reason: AdminRefusals.Reason, user: String?) in
            refusals.record(
                reason, method: request.method.rawValue, path: request.uri.path,
                client: routeTable.clientAddress(peer: context.remoteAddress, headers: request.headers), user: user, logger: context.logger
            )
        }
        guard let authorization = request.headers.value(of: .authorization) else {
            refuse(.missing, nil)
            throw Self.unauthorized("The admin API needs `Authorization: Bearer <admin token>`.")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            refuse(.malformed, nil)
            throw Self.unauthorized("The admin API takes a Bearer token.")
        }
        // swift-crypto's digest equality is constant-time.
        if SHA256.hash(data: Array(parts[1].utf8)) == tokenDigest {
            return try await audited(request, context, actor: "admin-token", next)
        }
        guard let tokens, parts[1].split(separator: ".").count == 3 else {
            refuse(.invalidToken, nil)
            throw Self.unauthorized("The admin token is not valid.")
        }
        let identity: Identity
        do {
            identity = try await tokens.verify(String(parts[1]))
        } catch {
            refuse(.invalidAccessToken, nil)
            throw Self.unauthorized("The access token is not valid: \(error.explanation)")
        }
        guard identity.isAdmin else {
            refuse(.roleRequired, identity.userID)
            throw RoleRequired(roles: ["admin"])
        }
        return try await audited(request, context, actor: "user:" + identity.userID, next)
    }

    /// Runs `next`, logging the outcome of a change made by `actor`.
    private func audited(
        _ request: Request, _ context: Context, actor: String, _ next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.method != .get, request.method != .head else { return try await next(request, context) }
        return try await recordingStatus({ try await next(request, context) }) { status in
            context.logger.notice("admin change", metadata: [
                "actor": .string(actor), "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(status.code),
            ])
        }
    }

    static func unauthorized(_ detail: String) -> ProblemDetails {
        GatewayProblem.make(.unauthorized, "unauthorized", "Unauthorized", detail, headers: [.wwwAuthenticate: "Bearer realm=\"booking-rush-admin\""])
    }
}
