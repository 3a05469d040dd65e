import Foundation
import Hummingbird
import ServiceKit

struct Credentials: Decodable, KnownFields {
    static let knownFields: Set<String> = ["email", "password"]
    var email: String
    var password: String
}

struct RefreshRequest: Decodable, KnownFields {
    static let knownFields = fields(of: CodingKeys.self)
    var refreshToken: String
    enum CodingKeys: String, CodingKey, CaseIterable { case refreshToken = "refresh_token" }
}

struct RolesRequest: Decodable, KnownFields {
    static let knownFields: Set<String> = ["roles"]
    var roles: [String]
}

struct AccountBody: ResponseEncodable {
    var id: String
    var email: String
    var roles: [String]

    init(_ account: Account) {
        self.id = account.id.uuidString.lowercased()
        self.email = account.email
        self.roles = account.roles
    }
}

struct TokenBody: ResponseEncodable {
    var accessToken: String
    var tokenType = "Bearer"
    var expiresIn = Int(AccessTokens.lifetime)
    var refreshToken: String
    var account: AccountBody

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in", refreshToken = "refresh_token", account
    }
}

/// `/api/v1/auth`: register, login, refresh (rotating), logout, me; and account roles for admins.
struct AccountRoutes: Sendable {
    let accounts: AccountStore
    let tokens: AccessTokens
    let limiter: RateLimiter
    /// Its `trusted_proxies` say who may set the client address.
    let routeTable: LiveRouteTable
    let loginLimits: ProxyRoute
    let registrations: RegistrationGate

    func addRoutes(to router: Router<GatewayRequestContext>) {
        let auth = router.group("api/v1/auth")
        auth.post("register") { request, context -> Response in
            let credentials = try await request.decodeBody(as: Credentials.self, context: context)
            let account = try await registrations.run {
                try await accounts.register(email: credentials.email, password: credentials.password)
            }
            var response = try Response.json(AccountBody(account), status: .created)
            response.headers[.location] = "/api/v1/auth/me"
            return response
        }
        auth.post("login") { request, context -> TokenBody in
            let credentials = try await request.decodeBody(as: Credentials.self, context: context)
            let address = routeTable.clientAddress(peer: context.remoteAddress, headers: request.headers)
            let email = (try? AccountStore.normalised(credentials.email)) ?? credentials.email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            let decision = await limiter.check(route: loginLimits, subjects: [limiter.addresses.subject(of: address), "e:\(email)"])
            let fields = RateLimiter.headers(rules: loginLimits.rateLimits, decision: decision)
            switch decision.verdict {
            case .allowed where !decision.failedOpen: break
            case .denied(let retryAfter): throw RateLimited(retryAfter: retryAfter, headers: fields)
            case .allowed, .unavailable: throw RateLimited(retryAfter: nil, headers: fields)
            }
            let account = try await accounts.authenticate(email: credentials.email, password: credentials.password)
            return try await tokenBody(for: account, refreshToken: try await accounts.issueRefreshToken(for: account))
        }
        auth.post("refresh") { request, context -> TokenBody in
            let body = try await request.decodeBody(as: RefreshRequest.self, context: context)
            let (account, next) = try await accounts.rotate(refreshToken: body.refreshToken)
            return try await tokenBody(for: account, refreshToken: next)
        }
        auth.post("logout") { request, context -> Response in
            let body = try await request.decodeBody(as: RefreshRequest.self, context: context)
            try await accounts.revoke(refreshToken: body.refreshToken)
            return Response(status: .noContent)
        }
        auth.get("me") { request, _ -> AccountBody in
            guard let identity = try await tokens.identity(of: request), let id = UUID(uuidString: identity.userID) else {
                throw AccessTokenRejection(reason: nil)
            }
            return AccountBody(try await accounts.account(id: id))
        }
    }

    /// `PUT /admin/v1/accounts/{id}/roles`, behind the admin middleware.
    func addAdminRoutes(to admin: RouterGroup<GatewayRequestContext>) {
        admin.put("accounts/:id/roles") { request, context -> AccountBody in
            guard let id = UUID(uuidString: try context.parameters.require("id")) else { throw AccountError.notFound }
            let body = try await request.decodeBody(as: RolesRequest.self, context: context)
            return AccountBody(try await accounts.setRoles(id: id, roles: body.roles))
        }
    }

    private func tokenBody(for account: Account, refreshToken: String) async throws -> TokenBody {
        let access = try await tokens.issue(userID: account.id.uuidString.lowercased(), roles: account.roles, email: account.email)
        return TokenBody(accessToken: access, refreshToken: refreshToken, account: AccountBody(account))
    }
}
