import NIOCore
import Queue
import Tokens

/// Access token and role (401 with a Bearer challenge, 403 without a role the route names).
/// A token verified before is answered from the key ring's cache on the event loop; a new one
/// is verified once, off the loop.
struct AccessTokenPolicy: EdgePolicy {
    let tokens: AccessTokens
    let authentication: ProxyRoute.Authentication
    let roles: [String]

    func admit(_ exchange: EdgeExchange) -> EdgeVerdict {
        let token: String?
        do {
            token = try AccessTokens.bearer(exchange.head.headers.first(name: "authorization"))
        } catch {
            return .reject(error)
        }
        guard let token else {
            return authentication == .required ? .reject(AccessTokenRejection(reason: nil)) : .proceed
        }
        do {
            if let identity = try tokens.cachedIdentity(token) { return decide(identity, exchange) }
        } catch {
            return .reject(AccessTokenRejection(reason: error))
        }
        let tokens = self.tokens
        let verified = exchange.eventLoop.makeFutureWithTask { () async throws -> Identity in
            do throws(TokenError) {
                return try await tokens.verify(token)
            } catch {
                throw AccessTokenRejection(reason: error)
            }
        }
        return .pending(verified.assumeIsolated().map { self.decide($0, exchange) }.nonisolated())
    }

    private func decide(_ identity: Identity, _ exchange: EdgeExchange) -> EdgeVerdict {
        if authentication == .required, !roles.isEmpty, identity.roles.isDisjoint(with: roles) {
            return .reject(RoleRequired(roles: roles))
        }
        exchange.identity = identity
        return .proceed
    }
}

/// A declared body larger than the route allows is refused (413) before anything else is read;
/// a streamed one is counted by the exchange as it arrives.
struct BodyLimitPolicy: EdgePolicy {
    let limit: Int

    func admit(_ exchange: EdgeExchange) -> EdgeVerdict {
        if let declared = exchange.head.headers.first(name: "content-length").flatMap({ Int($0) }), declared > limit {
            return .reject(ProxyError.bodyTooLarge(limit: limit))
        }
        return .proceed
    }
}
