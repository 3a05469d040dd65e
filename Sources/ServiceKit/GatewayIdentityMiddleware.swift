import Crypto
import Hummingbird

/// A request context that carries the identity the gateway vouched for.
public protocol IdentityRequestContext: RequestContext {
    var identity: GatewayIdentity? { get set }
}

extension IdentityRequestContext {
    /// The verified identity; 401 `identity-required` without one.
    public func requireIdentity() throws -> GatewayIdentity {
        guard let identity else { throw GatewayIdentity.required }
        return identity
    }
}

/// Checks the gateway's signature on every request that carries an identity, against the
/// request as this service received it: method, target and a digest of the body, which it
/// collects first (up to `maxBodyBytes`, 413 beyond). A valid one is left in the context;
/// a missing, stale or mismatched one is refused with 401 before any route runs.
public struct GatewayIdentityMiddleware<Context: IdentityRequestContext>: RouterMiddleware {
    let signer: GatewaySigner
    let service: String
    let maxBodyBytes: Int

    /// - Parameters:
    ///   - service: this service's name, as the gateway's route names it (`service`).
    public init(secret: [UInt8], service: String, maxBodyBytes: Int = 1 << 20) {
        self.signer = GatewaySigner(key: SymmetricKey(data: secret))
        self.service = service
        self.maxBodyBytes = maxBodyBytes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers.contains(GatewayIdentity.userField) else { return try await next(request, context) }
        var request = request
        var context = context
        let body = try await request.collectBody(upTo: maxBodyBytes)
        context.identity = try GatewayIdentity.verified(request, body: body, service: service, signer: signer)
        return try await next(request, context)
    }
}

/// The names the services answer to in gateway signatures: a route's `service` in the
/// gateway's route table.
public enum ServiceName {
    public static let booking = "booking"
    public static let payments = "payments"
}
