import Booking
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import ServiceKit
import ServiceTestSupport
import Testing

@Suite("Reservations answered on the event loop, ahead of the router, over a live connection")
struct FastReserveTests {
    static let secret = Array("fast-reserve-tests-internal-secret-0123".utf8)

    static func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
    }

    /// Runs `body` against a live booking service with a published sale of `seats` seats.
    static func withLiveService(seats: Int, _ body: @Sendable (GatewaySigningClient, _ event: String, _ port: Int) async throws -> Void) async throws {
        try await withPublishedSale(prefix: "fast", seats: seats) { sale in
            let app = buildBookingApplication(
                address: .init(port: 0), redis: sale.redis, postgres: sale.postgres, configuration: .init(internalSecret: Self.secret), logger: bookingTestLogger
            )
            try await app.test(.live) { client in
                let signing = GatewaySigningClient(client, secret: Self.secret, service: ServiceName.booking)
                try await body(signing, sale.event, try #require(client.port))
            }
        }
    }

    static func reserveBody(_ event: String, zone: String = "floor", quantity: Int) -> ByteBuffer {
        ByteBuffer(string: #"{"event_id":"\#(event)","zone_id":"\#(zone)","quantity":\#(quantity)}"#)
    }

    @Test("a reservation, its problems and the cases left to the router answer as the router's route does")
    func answers() async throws {
        try await Self.withLiveService(seats: 3) { client, event, _ in
            let reserve = { (user: String, body: ByteBuffer, extra: HTTPFields) in
                var headers = TestIdentity.fields(user, roles: ["customer"])
                headers.append(contentsOf: extra)
                return try await client.execute(uri: "/api/v1/bookings/reserve", method: .post, headers: headers, body: body)
            }
            let held = try await reserve("fast-1", Self.reserveBody(event, quantity: 2), [:])
            #expect(held.status == .created)
            let booking = Self.json(held)
            let id = try #require(booking["booking_id"] as? String)
            #expect(booking["status"] as? String == "reserved" && booking["total"] as? Int == 10_000 && booking["quantity"] as? Int == 2)
            #expect(held.headers[.location] == "/api/v1/bookings/\(id)")
            #expect(held.headers[.contentType] == "application/json; charset=utf-8")
            #expect(held.headers[.server] == "booking-rush-booking" && held.headers[.date] != nil)

            let soldOut = try await reserve("fast-2", Self.reserveBody(event, quantity: 2), [:])
            #expect(soldOut.status == .conflict && soldOut.headers[.contentType] == "application/problem+json")
            #expect(Self.json(soldOut)["type"] as? String == ProblemDetails.typeBase + "sold-out")
            #expect(Self.json(soldOut)["instance"] as? String == "/api/v1/bookings/reserve")
            let zero = try await reserve("fast-2", Self.reserveBody(event, quantity: 0), [:])
            #expect(zero.status == .badRequest && Self.json(zero)["type"] as? String == ProblemDetails.typeBase + "invalid-quantity")
            #expect(try await reserve("fast-2", Self.reserveBody(event, zone: "nope", quantity: 1), [:]).status == .notFound)

            var forged = client.signed(TestIdentity.fields("fast-3", roles: ["customer"]), method: .post, uri: "/api/v1/bookings/reserve", body: Self.reserveBody(event, quantity: 1))
            forged[TestIdentity.user] = "admin"
            let refused = try await client.execute(uri: "/api/v1/bookings/reserve", method: .post, headers: forged, body: Self.reserveBody(event, quantity: 1))
            #expect(refused.status == .unauthorized && Self.json(refused)["type"] as? String == ProblemDetails.typeBase + "identity-invalid")

            let anonymous = try await client.execute(uri: "/api/v1/bookings/reserve", method: .post, headers: [.contentType: "application/json"], body: Self.reserveBody(event, quantity: 1))
            #expect(anonymous.status == .unauthorized && Self.json(anonymous)["type"] as? String == ProblemDetails.typeBase + "identity-required")
            let malformed = try await reserve("fast-3", ByteBuffer(string: #"{"event_id":"\#(event)","quantity":"one"}"#), [:])
            #expect(malformed.status == .badRequest && malformed.headers[.contentType] == "application/problem+json")
            for twice in [
                #"{"event_id":"\#(event)","zone_id":"floor","quantity":1,"event_id":"another-event"}"#,
                #"{"event_id":"another-event","zone_id":"floor","quantity":1,"event\u005fid":"\#(event)"}"#,
            ] {
                let ambiguous = try await reserve("fast-3", ByteBuffer(string: twice), [:])
                #expect(ambiguous.status == .badRequest && Self.json(ambiguous)["field"] as? String == "event_id", "\(twice)")
                #expect(Self.json(ambiguous)["type"] as? String == ProblemDetails.typeBase + "invalid-body")
            }
            let misspelt = try await reserve("fast-3", ByteBuffer(string: #"{"event_id":"\#(event)","zone_id":"floor","quantity":1,"quantiy":5}"#), [:])
            #expect(misspelt.status == .badRequest && Self.json(misspelt)["field"] as? String == "quantiy", "a field the request does not take is named, not ignored")

            let keyed: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "fast-retry"]
            let first = try await reserve("fast-4", Self.reserveBody(event, quantity: 1), keyed)
            let again = try await reserve("fast-4", Self.reserveBody(event, quantity: 1), keyed)
            #expect(first.status == .created && again.status == .ok, "the retry is the router's answer: the booking as it stands")
            #expect(Self.json(again)["booking_id"] as? String == Self.json(first)["booking_id"] as? String)
        }
    }

    @Test("pipelined requests are answered in order, whoever answers each: the fast route or the router")
    func pipelined() async throws {
        try await Self.withLiveService(seats: 10) { client, event, port in
            var requests = ""
            for (index, uri) in ["/api/v1/bookings/reserve", "/health", "/api/v1/bookings/reserve", "/nowhere"].enumerated() {
                let body = uri.hasSuffix("reserve") ? Self.reserveBody(event, quantity: 1) : nil
                let fields = body == nil ? [:] : client.signed(TestIdentity.fields("pipe-\(index)", roles: ["customer"]), method: .post, uri: uri, body: body)
                requests += "\(body == nil ? "GET" : "POST") \(uri) HTTP/1.1\r\nHost: localhost\r\n"
                for field in fields { requests += "\(field.name): \(field.value)\r\n" }
                if let body { requests += "Content-Length: \(body.readableBytes)\r\n" }
                if index == 3 { requests += "Connection: close\r\n" }
                requests += "\r\n" + (body.map { String(buffer: $0) } ?? "")
            }
            let answers = try await Self.exchange(port: port, requests)
            let statuses = answers.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
            #expect(statuses == ["201", "200", "201", "404"], "\(answers)")
        }
    }

    /// Writes `requests` in one go on a new connection and reads until the server closes it.
    static func exchange(port: Int, _ requests: String) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: requests))
            var received = ""
            for try await chunk in inbound { received += String(buffer: chunk) }
            return received
        }
    }
}
