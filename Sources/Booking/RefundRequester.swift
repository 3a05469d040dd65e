import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import ServiceKit

/// Asks the payments service to refund a payment (`POST /internal/v1/payments/{id}/refund`),
/// as the `booking-service` identity with the `service` role, signed with `INTERNAL_SECRET`.
/// Refunds are idempotent there, so asking again is always safe.
public struct RefundRequester: Sendable {
    static let identity = GatewayIdentity(userID: "booking-service", roles: ["service"])

    let client: HTTPClient
    let payments: ServiceBaseURL
    let key: SymmetricKey
    let logger: Logger

    public init(client: HTTPClient, paymentsURL: String, internalSecret: [UInt8], logger: Logger) {
        self.client = client
        self.payments = ServiceBaseURL(paymentsURL)
        self.key = SymmetricKey(data: internalSecret)
        self.logger = logger
    }

    /// Whether the payments service accepted the refund; failures are logged, for a later retry.
    @discardableResult
    public func request(paymentID: String, bookingID: String) async -> Bool {
        guard let escaped = paymentID.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["_", "-"])) else { return false }
        let target = payments.target("/internal/v1/payments/\(escaped)/refund")
        var request = HTTPClientRequest(url: payments.url(target: target))
        request.method = .POST
        for field in Self.identity.signedFields(key: key, service: ServiceName.payments, method: "POST", target: target) {
            request.headers.add(name: field.name, value: field.value)
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(5))
            _ = try? await response.body.collect(upTo: 1 << 16)
            guard response.status.code == 200 else {
                logger.warning("refund refused", metadata: ["payment": "\(paymentID)", "booking": "\(bookingID)", "status": "\(response.status.code)"])
                return false
            }
            logger.notice("refund requested", metadata: ["payment": "\(paymentID)", "booking": "\(bookingID)"])
            return true
        } catch {
            logger.warning("refund request failed", metadata: ["payment": "\(paymentID)", "error": "\(error)"])
            return false
        }
    }
}
