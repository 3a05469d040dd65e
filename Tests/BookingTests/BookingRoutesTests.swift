import Booking
import Crypto
import Database
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Redis
import ServiceKit
import ServiceTestSupport
import Testing

@Suite("Booking HTTP API behind the gateway's signed identity")
struct BookingRoutesTests {
    static let logger = Logger(label: "booking-routes-tests")
    static let secret = Array("booking-tests-internal-secret-0123456789".utf8)

    /// The fields the gateway would add for `user`, signed by the client for each request.
    static func identity(_ user: String, roles: [String] = ["customer"]) -> HTTPFields {
        TestIdentity.fields(user, roles: roles)
    }

    static func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
    }

    @Test("identity, catalog, reserve, read, cancel, list — and the refusals on the way")
    func endToEnd() async throws {
        try await withStores { postgres, redis in
            let app = buildBookingApplication(address: .init(port: 0), redis: redis, postgres: postgres, configuration: .init(internalSecret: Self.secret), logger: Self.logger)
            let run = UUID().uuidString.prefix(8).lowercased()
            let event = "api-\(run)"
            try await app.test(.router) { client in
                let client = GatewaySigningClient(client, secret: Self.secret, service: ServiceName.booking)
                let body = #"{"id":"\#(event)","name":"Finale","venue":"Hall","starts_at":"2027-01-01T20:00:00Z","max_per_user":4,"zones":[{"id":"a","name":"Front","price_minor":12000,"currency":"EUR","capacity":3}]}"#
                let anonymous = try await client.execute(uri: "/api/v1/events", method: .post, body: ByteBuffer(string: body))
                #expect(anonymous.status == .unauthorized)
                var forged = client.signed(Self.identity("org-1-\(run)", roles: ["organizer"]), method: .post, uri: "/api/v1/events", body: ByteBuffer(string: body))
                forged[HTTPField.Name("X-Gateway-User-Id")!] = "admin"
                #expect(try await client.execute(uri: "/api/v1/events", method: .post, headers: forged, body: ByteBuffer(string: body)).status == .unauthorized)
                #expect(try await client.execute(uri: "/api/v1/events", method: .post, headers: Self.identity("c-1-\(run)"), body: ByteBuffer(string: body)).status == .forbidden)
                let invalid = body.replacingOccurrences(of: #""currency":"EUR""#, with: #""currency":"euro""#)
                #expect(try await client.execute(uri: "/api/v1/events", method: .post, headers: Self.identity("org-1-\(run)", roles: ["organizer"]), body: ByteBuffer(string: invalid)).status == .unprocessableContent)
                let overpriced = body.replacingOccurrences(of: #""price_minor":12000"#, with: #""price_minor":1000000000001"#)
                let refusedPrice = try await client.execute(uri: "/api/v1/events", method: .post, headers: Self.identity("org-1-\(run)", roles: ["organizer"]), body: ByteBuffer(string: overpriced))
                #expect(refusedPrice.status == .unprocessableContent, "a total past 2^53 would lose cents in the reserve script")
                #expect(Self.json(refusedPrice)["field"] as? String == "zones.0.price_minor")
                let misspelt = body.replacingOccurrences(of: #""currency":"EUR""#, with: #""currency":"EUR","capcity":9"#)
                let refusedZone = try await client.execute(uri: "/api/v1/events", method: .post, headers: Self.identity("org-1-\(run)", roles: ["organizer"]), body: ByteBuffer(string: misspelt))
                #expect(refusedZone.status == .badRequest)
                #expect(Self.json(refusedZone)["field"] as? String == "zones.0.capcity", "a field the catalog does not take is named, not ignored")
                let withoutLimit = body.replacingOccurrences(of: #""max_per_user":4,"#, with: "").replacingOccurrences(of: event, with: event + "-x")
                #expect(try await client.execute(uri: "/api/v1/events", method: .post, headers: Self.identity("org-1-\(run)", roles: ["organizer"]), body: ByteBuffer(string: withoutLimit)).status == .created, "max_per_user defaults to 10")
                let created = try await client.execute(uri: "/api/v1/events", method: .post, headers: Self.identity("org-1-\(run)", roles: ["organizer"]), body: ByteBuffer(string: body))
                #expect(created.status == .created)
                #expect(try await client.execute(uri: "/api/v1/events", method: .post, headers: Self.identity("org-1-\(run)", roles: ["organizer"]), body: ByteBuffer(string: body)).status == .conflict)
                #expect(try await client.execute(uri: "/api/v1/events/\(event)", method: .get).status == .notFound, "drafts are not public")
                #expect(try await client.execute(uri: "/api/v1/events/\(event)/publish", method: .post, headers: Self.identity("org-2-\(run)", roles: ["organizer"])).status == .forbidden)
                #expect(try await client.execute(uri: "/api/v1/events/\(event)/publish", method: .post, headers: Self.identity("org-1-\(run)", roles: ["organizer"])).status == .noContent)

                let detail = try await client.execute(uri: "/api/v1/events/\(event)", method: .get)
                let zones = try #require(Self.json(detail)["zones"] as? [[String: Any]])
                #expect(zones.first?["available"] as? Int == 3)

                let reserve = { (user: String, quantity: Int, zone: String) in
                    try await client.execute(
                        uri: "/api/v1/bookings/reserve", method: .post, headers: Self.identity(user),
                        body: ByteBuffer(string: #"{"event_id":"\#(event)","zone_id":"\#(zone)","quantity":\#(quantity)}"#)
                    )
                }
                #expect(try await reserve("c-1-\(run)", 0, "a").status == .badRequest)
                #expect(try await reserve("c-1-\(run)", 1, "nope").status == .notFound)
                let held = try await reserve("c-1-\(run)", 2, "a")
                #expect(held.status == .created)
                let booking = Self.json(held)
                let id = try #require(booking["booking_id"] as? String)
                #expect(booking["status"] as? String == "reserved")
                #expect(booking["total"] as? Int == 24_000, "the price comes from the catalog")
                #expect(held.headers[.location] == "/api/v1/bookings/\(id)")
                let soldOut = try await reserve("c-2-\(run)", 2, "a")
                #expect(soldOut.status == .conflict)
                #expect(soldOut.headers[.contentType] == "application/problem+json")

                let keyedBody = ByteBuffer(string: #"{"event_id":"\#(event)","zone_id":"a","quantity":1}"#)
                let first = try await client.execute(uri: "/api/v1/bookings/reserve", method: .post, headers: Self.identity("c-4-\(run)").merging(key: "retry-\(run)"), body: keyedBody)
                let retried = try await client.execute(uri: "/api/v1/bookings/reserve", method: .post, headers: Self.identity("c-4-\(run)").merging(key: "retry-\(run)"), body: keyedBody)
                #expect(first.status == .created)
                #expect(retried.status == .ok, "a retried key answers the booking as stored, not a new hold")
                #expect(Self.json(first)["booking_id"] as? String == Self.json(retried)["booking_id"] as? String, "a retried key finds the same booking")
                let digest = Array(SHA256.hash(data: Array("c-4-\(run)\nretry-\(run)".utf8)))
                let derived = UUID(uuid: digest.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) }).uuidString.lowercased()
                #expect(Self.json(first)["booking_id"] as? String == "\(event):\(derived)", "a keyed id: the first 16 bytes of SHA-256 of user and key, as ever")
                #expect(Self.json(retried)["status"] as? String == "reserved")
                #expect(try await client.execute(uri: "/api/v1/bookings/\(try #require(Self.json(first)["booking_id"] as? String))/cancel", method: .post, headers: Self.identity("c-4-\(run)")).status == .ok)
                let otherBody = ByteBuffer(string: #"{"event_id":"\#(event)","zone_id":"a","quantity":2}"#)
                let late = try await client.execute(uri: "/api/v1/bookings/reserve", method: .post, headers: Self.identity("c-4-\(run)").merging(key: "retry-\(run)"), body: otherBody)
                #expect(late.status == .ok)
                #expect(Self.json(late)["status"] as? String == "cancelled", "a retry after a cancel is told the booking was cancelled")
                #expect(Self.json(late)["quantity"] as? Int == 1, "the stored booking, not the retry's body")

                let inventory = { (identity: HTTPFields) in try await client.execute(uri: "/api/v1/events/\(event)/inventory", method: .get, headers: identity) }
                #expect(try await client.execute(uri: "/api/v1/events/\(event)/inventory", method: .get).status == .unauthorized)
                #expect(try await inventory(Self.identity("c-1-\(run)")).status == .forbidden)
                #expect(try await inventory(Self.identity("org-2-\(run)", roles: ["organizer"])).status == .forbidden)
                for viewer in [Self.identity("org-1-\(run)", roles: ["organizer"]), Self.identity("ops-\(run)", roles: ["admin"])] {
                    let counts = try #require((Self.json(try await inventory(viewer))["zones"] as? [[String: Any]])?.first)
                    #expect(counts["id"] as? String == "a")
                    #expect([counts["capacity"], counts["available"], counts["held"], counts["sold"]].map { $0 as? Int } == [3, 1, 2, 0])
                }

                #expect(try await client.execute(uri: "/api/v1/bookings/\(id)", method: .get, headers: Self.identity("c-1-\(run)")).status == .ok)
                #expect(try await client.execute(uri: "/api/v1/bookings/\(id)", method: .get, headers: Self.identity("c-2-\(run)")).status == .notFound, "someone else's booking is not found")
                let cancelled = try await client.execute(uri: "/api/v1/bookings/\(id)/cancel", method: .post, headers: Self.identity("c-1-\(run)"))
                #expect(Self.json(cancelled)["status"] as? String == "cancelled")
                #expect(try await client.execute(uri: "/api/v1/bookings/\(id)/cancel", method: .post, headers: Self.identity("c-1-\(run)")).status == .conflict)

                _ = try await BookingPersister(redis: redis, postgres: postgres, logger: Self.logger).persist(event: event)
                let list = try await client.execute(uri: "/api/v1/bookings?per_page=10", method: .get, headers: Self.identity("c-1-\(run)"))
                #expect(Self.json(list)["total_count"] as? Int == 1)
                #expect((Self.json(list)["bookings"] as? [[String: Any]])?.first?["status"] as? String == "cancelled")
                for query in ["page=9223372036854775807", "page=0", "per_page=abc", "per_page=101"] {
                    let refused = try await client.execute(uri: "/api/v1/bookings?\(query)", method: .get, headers: Self.identity("c-1-\(run)"))
                    #expect(refused.status == .badRequest, "\(query): page 2^63-1 overflowed the offset and ended the service")
                    #expect(Self.json(refused)["type"] as? String == ProblemDetails.typeBase + "invalid-query")
                }

                let organizer = Self.identity("org-1-\(run)", roles: ["organizer"])
                let patch = { (identity: HTTPFields, body: String) in
                    try await client.execute(uri: "/api/v1/events/\(event)", method: .patch, headers: identity, body: ByteBuffer(string: body))
                }
                #expect(try await patch(Self.identity("org-2-\(run)", roles: ["organizer"]), #"{"name":"Mine now"}"#).status == .forbidden)
                #expect(try await patch(organizer, #"{"max_per_user":0}"#).status == .unprocessableContent)
                #expect(try await patch(organizer, #"{"sale_starts_at":"2027-02-01T00:00:00Z","sale_ends_at":"2027-01-01T00:00:00Z"}"#).status == .unprocessableContent)
                #expect(try await patch(organizer, #"{"max_per_user":"many"}"#).status == .badRequest)
                #expect(try await patch(organizer, #"{"name":"Misspelt","maxPerUser":1}"#).status == .badRequest, "an unknown field refuses the whole change")
                #expect(try await patch(organizer, #"{"name":"Grand finale","max_per_user":1}"#).status == .noContent)
                #expect(Self.json(try await client.execute(uri: "/api/v1/events/\(event)", method: .get))["name"] as? String == "Grand finale")
                let overLimit = try await reserve("c-3-\(run)", 2, "a")
                #expect(overLimit.status == .conflict, "the new per-user limit is in force at once")
                #expect(Self.json(overLimit)["type"] as? String == "https://booking-rush.dev/problems/over-limit")
                #expect(try await patch(organizer, #"{"status":"cancelled"}"#).status == .noContent)
                let closed = try await reserve("c-3-\(run)", 1, "a")
                #expect(Self.json(closed)["type"] as? String == "https://booking-rush.dev/problems/not-on-sale")
            }
        }
    }
}

extension HTTPFields {
    /// These fields with an `Idempotency-Key`.
    func merging(key: String) -> HTTPFields {
        var fields = self
        fields[HTTPField.Name("Idempotency-Key")!] = key
        return fields
    }
}
