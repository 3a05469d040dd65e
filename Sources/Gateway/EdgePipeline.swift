import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Queue
import ServiceKit

/// The policies of proxied routes, applied in order: access token and role (401/403), body
/// size (413), rate limits (429), queue pass (403), idempotency key (400/409/422 or replay),
/// then the upstream call. Gateway rejections never claim an idempotency key.
struct EdgePipeline: Sendable {
    let table: RouteTable
    let proxy: ReverseProxy
    let limiter: RateLimiter
    let idempotency: IdempotencyStore
    let passes: PassEnforcer
    let tokens: AccessTokens

    func handle(_ request: Request, context: GatewayRequestContext, route: ProxyRoute, requestID: String) async throws -> Response {
        var request = request
        let identity = route.authentication == .none ? nil : try await tokens.identity(of: request)
        if route.authentication == .required {
            guard let identity else { throw AccessTokenRejection(reason: nil) }
            if !route.roles.isEmpty, identity.roles.isDisjoint(with: route.roles) { throw RoleRequired(roles: route.roles) }
        }
        let length = request.headers[.contentLength].flatMap { Int($0) }
        if let length, length > route.maxBodyBytes { throw ProxyError.bodyTooLarge(limit: route.maxBodyBytes) }
        let clientAddress = proxy.addresses.clientAddress(peer: context.remoteAddress, headers: request.headers)

        var limitHeaders = HTTPFields()
        if !route.rateLimits.isEmpty {
            let subjects = route.rateLimits.map { rule in subject(of: rule, request: request, identity: identity, clientAddress: clientAddress) }
            let decision = await limiter.check(route: route, subjects: subjects)
            GatewayMetrics.rateLimit(route: route.name, decision)
            limitHeaders = RateLimiter.headers(rules: route.rateLimits, decision: decision)
            switch decision.verdict {
            case .allowed: break
            case .denied(let retryAfter): throw RateLimited(retryAfter: retryAfter, headers: limitHeaders)
            case .unavailable: throw RateLimited(retryAfter: nil, headers: limitHeaders)
            }
        }

        let idempotent = route.idempotency != .off && (request.method == .post || request.method == .patch)
        let passPolicy = route.queuePass.flatMap { $0.guards(request.method) ? $0 : nil }
        let needsBody = idempotent || passPolicy?.eventFrom.hasPrefix("body:") == true
        var body = ProxyBody.streamed(request.body, length: length)
        var buffered: ByteBuffer?
        if needsBody {
            do {
                buffered = try await request.body.collect(upTo: route.maxBodyBytes)
            } catch {
                throw ProxyError.bodyTooLarge(limit: route.maxBodyBytes)
            }
            body = .buffered(buffered!)
            request.body = .init(buffer: buffered!)
        }

        var spend: PassSpend?
        if let policy = passPolicy {
            guard let event = PassEnforcer.event(for: policy, request: request, body: buffered), QueueKeys.isValidEvent(event) else {
                throw QueueError.invalidEvent(PassEnforcer.event(for: policy, request: request, body: buffered) ?? "")
            }
            if await passes.requiresPass(event: event) {
                let claims = try await passes.verify(request: request, event: event)
                if policy.singleUse { spend = try await passes.claim(claims) }
            }
        }

        var ticket: IdempotencyTicket?
        if idempotent {
            do {
                let key = try IdempotencyStore.key(from: request.headers)
                if let key {
                    let principal = identity.map { "u:\($0.userID)" } ?? "ip:\(clientAddress)"
                    let lease = Duration.milliseconds(route.timeoutMilliseconds) + .seconds(5)
                    switch try await idempotency.claim(
                        key: key, principal: principal, method: request.method, route: route.name,
                        path: request.uri.description, body: buffered ?? ByteBuffer(), lease: lease
                    ) {
                    case .replay(let response):
                        GatewayMetrics.idempotency(route: route.name, "replayed")
                        if let spend { await passes.release(spend) }
                        return response
                    case .claimed(let claimed):
                        GatewayMetrics.idempotency(route: route.name, "claimed")
                        ticket = claimed
                    }
                } else if route.idempotency == .required {
                    throw IdempotencyError.missingKey
                }
            } catch {
                if let error = error as? IdempotencyError { GatewayMetrics.idempotency(route: route.name, error.outcome) }
                if let spend { await passes.release(spend) }
                throw error
            }
        }

        let started = ContinuousClock.now
        let upstream: UpstreamResponse
        do {
            upstream = try await proxy.forward(
                request, body: body, route: route, clientAddress: clientAddress, requestID: requestID,
                identity: identity, peer: context.remoteAddress
            )
        } catch {
            if let error = error as? ProxyError { GatewayMetrics.proxyError(route: route.name, error) }
            if let spend { await passes.release(spend) }
            if let ticket, case ProxyError.upstreamUnreachable = error { await idempotency.release(ticket) }
            throw error
        }
        GatewayMetrics.proxied(route: route.name, status: upstream.status, duration: ContinuousClock.now - started)
        if let spend {
            if (200..<300).contains(upstream.status.code) { await passes.confirm(spend) } else { await passes.release(spend) }
        }
        guard let ticket else { return upstream.streamed(adding: limitHeaders) }
        let collected: ByteBuffer
        do {
            collected = try await upstream.body.collect(upTo: IdempotencyStore.maximumStoredBody)
        } catch {
            await idempotency.release(ticket)
            throw ProxyError.upstreamFailed(route: route.name)
        }
        if upstream.status == .serviceUnavailable {
            // The upstream did nothing and asks for a retry: the key is freed for it, not replayed as a 503.
            await idempotency.release(ticket)
        } else {
            await idempotency.complete(ticket, status: upstream.status, headers: upstream.headers, body: collected)
        }
        var headers = upstream.headers
        for field in limitHeaders { headers.append(field) }
        return Response(status: upstream.status, headers: headers, body: .init(byteBuffer: collected))
    }

    func subject(of rule: RateLimitRule, request: Request, identity: Identity?, clientAddress: String) -> String {
        switch rule.subject {
        case .ip, .none: "ip:\(clientAddress)"
        case .user: identity.map { "u:\($0.userID)" } ?? "ip:\(clientAddress)"
        case .route: "all"
        case .header(let name): "h:" + (HTTPField.Name(name).flatMap { request.headers[$0] } ?? "-")
        }
    }
}
