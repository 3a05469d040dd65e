import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Payments
import ServiceKit
import Synchronization
import Testing

/// A booking-service stand-in on a loopback port that records each webhook it is sent and
/// refuses the first attempt of each payload.
private final class WebhookReceiver: Sendable {
    let received = Mutex<[(signature: String, body: String)]>([])

    func run(_ body: @Sendable (_ url: String) async throws -> Void) async throws {
        let router = Router()
        router.post("/webhooks/payments") { request, _ -> HTTPResponse.Status in
            let payload = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let attempt = self.received.withLock { received in
                received.append((request.headers[HTTPField.Name(WebhookSignature.header)!] ?? "", payload))
                return received.filter { $0.body == payload }.count
            }
            return attempt == 1 ? .internalServerError : .ok
        }
        let port = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { channel in
            port.continuation.yield(channel.localAddress?.port ?? 0)
        })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var ports = port.stream.makeAsyncIterator()
            let bound = try #require(await ports.next())
            defer { group.cancelAll() }
            try await body("http://127.0.0.1:\(bound)/webhooks/payments")
        }
    }
}

@Suite("Webhook delivery: signed, retried until acknowledged")
struct WebhookDispatcherTests {
    @Test("a refused webhook is retried after its backoff; each attempt is signed; the acknowledged one is marked delivered")
    func retriedUntilAcknowledged() async throws {
        try await PaymentsTestStore.with { fixture in
            let receiver = WebhookReceiver()
            let secret = Array("payments-tests-webhook-secret-0123456789".utf8)
            let intent = try await fixture.intent("webhook")
            try await receiver.run { url in
                let dispatcher = WebhookDispatcher(
                    postgres: fixture.postgres, client: .shared, url: url, secret: secret,
                    backoff: RetryBackoff(base: .milliseconds(50), maximum: .milliseconds(50)), batchSize: 500, logger: PaymentsTestStore.logger
                )
                let deadline = ContinuousClock.now + .seconds(10)
                while ContinuousClock.now < deadline, try await fixture.delivery(of: intent.paymentID, type: "payment_intent.created")?.delivered != true {
                    try await dispatcher.deliverDue()
                    try await Task.sleep(for: .milliseconds(60))
                }
            }
            let delivery = try #require(try await fixture.delivery(of: intent.paymentID, type: "payment_intent.created"))
            #expect(delivery.delivered)
            #expect(delivery.attempts == 2, "refused once, then acknowledged")
            #expect(delivery.lastError == nil)

            let ours = receiver.received.withLock { $0.filter { $0.body.contains(intent.paymentID) } }
            #expect(ours.count == 2)
            #expect(Set(ours.map(\.body)).count == 1, "the retry sends the same event")
            for attempt in ours {
                #expect(WebhookSignature.verify(attempt.signature, body: Array(attempt.body.utf8), key: SymmetricKey(data: secret)))
                #expect(!WebhookSignature.verify(attempt.signature, body: Array(attempt.body.utf8), key: SymmetricKey(data: Array("another secret".utf8))))
            }
            let event = try JSONSerialization.jsonObject(with: Data(ours[0].body.utf8)) as? [String: Any]
            #expect(event?["type"] as? String == "payment_intent.created")
            #expect((event?["data"] as? [String: Any])?["payment_id"] as? String == intent.paymentID)
        }
    }
}
