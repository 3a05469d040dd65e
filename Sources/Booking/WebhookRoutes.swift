import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import ServiceKit

/// `POST /webhooks/payments`: payment events from the payments service, signed Stripe-style
/// (`Booking-Rush-Signature: t=…,v1=…` over `"<t>.<body>"`, five minutes' tolerance). A bad or
/// stale signature is refused with 400 and changes nothing; a 2xx tells the sender to stop
/// retrying; a 503 (Redis or Postgres away) makes it try again later.
struct WebhookRoutes: Sendable {
    struct Receipt: ResponseEncodable {
        var received: Bool
        var outcome: BookingSaga.Outcome
    }

    let saga: BookingSaga
    let key: SymmetricKey

    func addRoutes(to router: Router<ISO8601RequestContext>) {
        router.post("webhooks/payments") { request, _ -> Receipt in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let bytes = Array(buffer: body)
            guard let signature = request.headers[HTTPField.Name(WebhookSignature.header)!],
                  WebhookSignature.verify(signature, body: bytes, key: key)
            else {
                throw BookingError.webhookSignatureInvalid
            }
            guard let event = try? JSONDecoder().decode(PaymentEvent.self, from: Data(bytes)) else {
                throw BookingError.invalidWebhook
            }
            do {
                return Receipt(received: true, outcome: try await saga.handle(event))
            } catch let error as BookingError {
                throw error
            } catch {
                throw BookingError.unavailable("\(error)")
            }
        }
    }
}
