import AsyncHTTPClient
import Booking
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Payments
import Redis
import ServiceKit
import Testing

/// The JSON object of a response body (empty when it is not one).
func json(_ response: TestResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
}

/// A logged-in customer calling through the gateway.
struct Shopper {
    let client: any TestClientProtocol
    let token: String

    init(fixture: SagaFixture, client: any TestClientProtocol, user: String) async throws {
        self.client = client
        self.token = try await fixture.gateway.accessTokens.issue(userID: user, roles: ["customer"], email: nil)
    }

    func post(_ path: String, _ body: String) async throws -> TestResponse {
        try await client.execute(
            uri: path, method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: ByteBuffer(string: body)
        )
    }

    func get(_ path: String) async throws -> TestResponse {
        try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(token)"])
    }

    /// Reserves seats; returns the booking id.
    func reserve(event: String, quantity: Int) async throws -> String {
        let response = try await post("/api/v1/bookings/reserve", #"{"event_id":"\#(event)","zone_id":"floor","quantity":\#(quantity)}"#)
        #expect(response.status == .created)
        return try #require(json(response)["booking_id"] as? String)
    }

    func booking(_ id: String) async throws -> [String: Any] {
        json(try await get("/api/v1/bookings/\(id)"))
    }
}

extension SagaFixture {
    var application: some ApplicationProtocol {
        Application(router: buildGatewayRouter(gateway), server: gatewayServer(gateway))
    }

    /// The notification types relayed for each booking, in order.
    func notifications(for bookings: [String]) async throws -> [String: [String]] {
        var found: [String: [String]] = [:]
        let wanted = Set(bookings)
        for entry in try await redis.send("XRANGE", SagaWorker.notifications(in: redis.keySpace), "-", "+").array ?? [] {
            let fields = entry.array?.last?.array?.compactMap(\.string) ?? []
            guard let index = fields.firstIndex(of: "payload"), index + 1 < fields.count,
                  let note = try? JSONDecoder().decode(SagaNotification.self, from: Data(fields[index + 1].utf8)),
                  wanted.contains(note.bookingID)
            else { continue }
            found[note.bookingID, default: []].append(note.type)
        }
        return found
    }

    func sagaState(_ booking: String) async throws -> String? {
        for try await state in try await postgres.query("SELECT state FROM booking.sagas WHERE booking_id = \(booking)", logger: Self.logger).decode(String.self) {
            return state
        }
        return nil
    }

    /// Attempts at webhooks of the payment that have not been acknowledged.
    func failedDeliveryAttempts(_ payment: String) async throws -> Int {
        let rows = try await postgres.query(
            "SELECT COALESCE(SUM(attempts), 0)::int FROM payments.webhook_deliveries WHERE payment_id = \(payment) AND delivered_at IS NULL", logger: Self.logger
        )
        for try await attempts in rows.decode(Int.self) { return attempts }
        return 0
    }

    /// Entries of one type in the event's booking stream.
    func streamCount(event: String, type: String) async throws -> Int {
        let entries = try await redis.send("XRANGE", inventory.keys(event).stream, "-", "+").array ?? []
        return entries.filter { entry in
            let fields = entry.array?.last?.array?.compactMap(\.string) ?? []
            return zip(fields, fields.dropFirst()).contains { $0 == "type" && $1 == type }
        }.count
    }

    /// Posts a webhook body straight to the booking service; returns the status code.
    func deliver(_ body: [UInt8], signature: String?) async throws -> UInt {
        try await post(body, signature: signature).status.code
    }

    /// Posts a webhook body; returns the saga's `outcome`.
    func deliverOutcome(_ body: [UInt8], signature: String) async throws -> String? {
        let response = try await post(body, signature: signature)
        let data = try await response.body.collect(upTo: 1 << 16)
        return (try? JSONSerialization.jsonObject(with: Data(buffer: data)) as? [String: Any])?["outcome"] as? String
    }

    private func post(_ body: [UInt8], signature: String?) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: bookingURL + "/webhooks/payments")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let signature { request.headers.add(name: WebhookSignature.header, value: signature) }
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    }

    /// After the persister drained: Redis and Postgres agree on every seat, and bookings on their payments.
    /// Redis, Postgres and payments agree on `event` once the stream is persisted. The booking
    /// service's own persister may hold the last entries for a moment (a drain does not take
    /// another consumer's entries until they are abandoned), so agreement gets five seconds.
    func expectAgreement(event: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let reconciler = Reconciler(inventory: inventory, postgres: postgres, logger: Self.logger)
        var zones: [ZoneReconciliation] = []
        let deadline = ContinuousClock.now + .seconds(5)
        repeat {
            // A service killed mid-pass leaves entries pending on its consumer until `claimAfter`:
            // this drain claims them at once, as a restarted service would 30 s later.
            try await BookingPersister(redis: redis, postgres: postgres, claimAfter: .milliseconds(200), logger: Self.logger).drain(event: event)
            zones = try await reconciler.reconcile(events: [event])
            if !zones.isEmpty, zones.allSatisfy({ $0.drift.isEmpty }) { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        #expect(!zones.isEmpty, sourceLocation: sourceLocation)
        #expect(zones.allSatisfy { $0.drift.isEmpty }, "\(zones.map(\.drift))", sourceLocation: sourceLocation)
        #expect(try await reconciler.paymentMismatches(events: [event]) == [], sourceLocation: sourceLocation)
    }
}
