import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import ServiceKit

/// A booking as the payments service needs it: its server-side total.
public struct PayableBooking: Sendable, Hashable, Decodable {
    public var bookingID: String
    public var eventID: String
    public var status: String
    public var total: Int
    public var currency: String
    public var expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case bookingID = "booking_id", eventID = "event_id", status, total, currency, expiresAt = "expires_at"
    }
}

/// Reads a booking from the booking service on the user's behalf (the identity re-signed with
/// the shared `INTERNAL_SECRET`), so the amount never comes from the client.
struct BookingLookup: Sendable {
    let client: HTTPClient
    let base: ServiceBaseURL
    let key: SymmetricKey

    init(client: HTTPClient, baseURL: String, key: SymmetricKey) {
        self.client = client
        self.base = ServiceBaseURL(baseURL)
        self.key = key
    }

    func booking(_ id: String, for user: GatewayIdentity) async throws -> PayableBooking {
        let (status, body) = try await call(.GET, "/api/v1/bookings/", id, as: user)
        switch status {
        case 200:
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            guard let booking = try? decoder.decode(PayableBooking.self, from: Data(buffer: body)) else { throw PaymentsError.bookingServiceUnavailable }
            return booking
        case 404: throw PaymentsError.bookingNotFound
        default: throw PaymentsError.bookingServiceUnavailable
        }
    }

    /// Tells the booking service a payment is starting, so the hold keeps its seats for the
    /// payment's grace; a hold that expired or was cancelled first cannot be paid.
    func startPayment(_ bookingID: String) async throws {
        switch try await call(.POST, "/internal/v1/bookings/", bookingID, "/payment-started", as: Self.service).status {
        case 200: return
        case 404: throw PaymentsError.bookingNotFound
        case 409: throw PaymentsError.bookingNotPayable("cancelled")
        case 410: throw PaymentsError.bookingNotPayable("expired")
        default: throw PaymentsError.bookingServiceUnavailable
        }
    }

    /// One signed call about booking `id` (`<prefix><id><suffix>`): its status and body; an
    /// unreachable booking service is `bookingServiceUnavailable`.
    private func call(
        _ method: HTTPMethod, _ prefix: String, _ id: String, _ suffix: String = "", as identity: GatewayIdentity
    ) async throws -> (status: UInt, body: ByteBuffer) {
        guard let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) else { throw PaymentsError.bookingNotFound }
        let target = base.target(prefix + escaped + suffix)
        var request = HTTPClientRequest(url: base.url(target: target))
        request.method = method
        for field in identity.signedFields(key: key, service: ServiceName.booking, method: method.rawValue, target: target) {
            request.headers.add(name: field.name, value: field.value)
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(5))
            return (response.status.code, try await response.body.collect(upTo: 1 << 16))
        } catch {
            throw PaymentsError.bookingServiceUnavailable
        }
    }

    /// The payments service's own identity toward the booking service.
    static let service = GatewayIdentity(userID: "payments-service", roles: ["service"])
}
