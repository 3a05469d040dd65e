import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Payments
import ServiceKit
import ServiceTestSupport
import Testing

@Suite("Payments API: owners see their payments, only services refund")
struct PaymentRoutesTests {
    static func application(_ fixture: PaymentsTestStore) -> some ApplicationProtocol {
        buildPaymentsApplication(
            address: .init(port: 0), postgres: fixture.postgres,
            configuration: .init(internalSecret: PaymentsTestStore.internalSecret, processor: CountingProcessor(latency: .zero)),
            logger: PaymentsTestStore.logger
        )
    }

    static func problem(_ response: TestResponse) -> ProblemDetails? {
        try? JSONDecoder().decode(ProblemDetails.self, from: Data(buffer: response.body))
    }

    @Test("the refund route refuses callers without the service role, with a project problem")
    func refundNeedsServiceRole() async throws {
        try await PaymentsTestStore.with { fixture in
            let intent = try await fixture.intent("refund-role")
            try await Self.application(fixture).test(.router) { client in
                let client = fixture.signing(client)
                let flow = PaymentFlow(store: fixture.store, processor: CountingProcessor(latency: .zero), logger: PaymentsTestStore.logger)
                #expect(try await flow.confirm(intent, paymentMethod: "pm_card_visa").status == .succeeded)
                let uri = "/internal/v1/payments/\(intent.paymentID)/refund"

                let anonymous = try await client.execute(uri: uri, method: .post)
                #expect(anonymous.status == .unauthorized)
                for roles: Set<String> in [["customer"], ["admin"], ["organizer"]] {
                    let refused = try await client.execute(uri: uri, method: .post, headers: PaymentsTestStore.identity("buyer", roles: roles))
                    #expect(refused.status == .forbidden, "roles \(roles)")
                    #expect(refused.headers[.contentType] == "application/problem+json")
                    #expect(Self.problem(refused)?.type == ProblemDetails.typeBase + "service-only", "roles \(roles): \(String(buffer: refused.body))")
                }
                #expect(try await fixture.store.intent(id: intent.paymentID)?.status == .succeeded, "no refused call refunded")

                let refunded = try await client.execute(uri: uri, method: .post, headers: PaymentsTestStore.identity("booking", roles: ["service"]))
                #expect(refunded.status == .ok)
                #expect(try await fixture.store.intent(id: intent.paymentID)?.status == .refunded)
                let unknown = try await client.execute(uri: "/internal/v1/payments/pi_unknown/refund", method: .post, headers: PaymentsTestStore.identity("booking", roles: ["service"]))
                #expect(Self.problem(unknown)?.type == ProblemDetails.typeBase + "payment-not-found")
            }
        }
    }

    @Test("a payment is visible to, and confirmable by, its owner only")
    func ownerOnly() async throws {
        try await PaymentsTestStore.with { fixture in
            let intent = try await fixture.intent("owner", user: "alice")
            try await Self.application(fixture).test(.router) { client in
                let client = fixture.signing(client)
                let alice = PaymentsTestStore.identity("alice", roles: ["customer"])
                let mallory = PaymentsTestStore.identity("mallory", roles: ["customer"])
                let own = try await client.execute(uri: "/api/v1/payments/\(intent.paymentID)", method: .get, headers: alice)
                #expect(own.status == .ok)
                let other = try await client.execute(uri: "/api/v1/payments/\(intent.paymentID)", method: .get, headers: mallory)
                #expect(other.status == .notFound)
                #expect(Self.problem(other)?.type == ProblemDetails.typeBase + "payment-not-found")

                let confirm = ByteBuffer(string: #"{"payment_id":"\#(intent.paymentID)","payment_method":"pm_card_visa"}"#)
                let stolen = try await client.execute(uri: "/api/v1/payments/intent/confirm", method: .post, headers: mallory, body: confirm)
                #expect(stolen.status == .notFound)
                #expect(try await fixture.store.intent(id: intent.paymentID)?.status == .requiresConfirmation, "another user's confirmation charged nothing")
            }
        }
    }
}
