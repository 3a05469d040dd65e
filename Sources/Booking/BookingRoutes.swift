import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import ServiceKit

struct ReserveRequest: Decodable, KnownFields {
    static let knownFields = fields(of: CodingKeys.self)
    var eventID: String
    var zoneID: String
    var quantity: Int
    enum CodingKeys: String, CodingKey, CaseIterable { case eventID = "event_id", zoneID = "zone_id", quantity }
}

/// A booking as its owner sees it.
struct BookingBody: Codable, Sendable {
    var bookingID: String
    var eventID: String
    var zoneID: String
    var quantity: Int
    var status: String
    var expiresAt: Date
    var total: Int
    var currency: String
    var confirmationCode: String?

    enum CodingKeys: String, CodingKey {
        case bookingID = "booking_id", eventID = "event_id", zoneID = "zone_id", quantity, status
        case expiresAt = "expires_at", total, currency, confirmationCode = "confirmation_code"
    }
}

struct BookingPage: ResponseEncodable {
    var bookings: [BookingBody]
    var page: Int
    var perPage: Int
    var totalCount: Int
    enum CodingKeys: String, CodingKey { case bookings, page, perPage = "per_page", totalCount = "total_count" }
}

/// `/api/v1/bookings`: reserve, cancel, the user's bookings. Identity comes only from the
/// gateway's signed fields; a request without them is refused.
struct BookingRoutes: Sendable {
    let inventory: Inventory
    let postgres: PostgresClient
    let paymentGrace: Duration
    let logger: Logger

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    /// A new booking's id: derived from the user and the request's Idempotency-Key when it has
    /// one, so a retry whose first reply was lost (Redis restarted, a proxy timed out) finds the
    /// same booking instead of holding a second one; random otherwise.
    static func bookingID(user: String, idempotencyKey: String?) -> String {
        guard let key = idempotencyKey, !key.isEmpty else { return UUIDText.random() }
        return UUIDText.lowercased(SHA256.hash(data: Array("\(user)\n\(key)".utf8)))
    }

    func addRoutes(to router: Router<ISO8601RequestContext>) {
        let bookings = router.group("api/v1/bookings")
        bookings.post("reserve") { request, context -> Response in
            let user = try context.requireIdentity()
            let body = try await request.decodeBody(as: ReserveRequest.self, context: context)
            let id = "\(body.eventID):\(Self.bookingID(user: user.userID, idempotencyKey: request.headers.value(of: Self.idempotencyKey)))"
            let hold = try await inventory.reserve(event: body.eventID, zone: body.zoneID, user: user.userID, quantity: body.quantity, bookingID: id)
            // A retry with a known Idempotency-Key: the booking as it stands, not a fresh hold.
            guard hold.isNew else { return try await booking(id, for: user).response(from: request, context: context) }
            let booking = BookingBody(
                bookingID: id, eventID: body.eventID, zoneID: body.zoneID, quantity: body.quantity, status: "reserved",
                expiresAt: hold.expiresAt, total: hold.total, currency: hold.currency
            )
            return booking.created(at: "/api/v1/bookings/\(id)")
        }
        bookings.get(":id") { request, context -> BookingBody in
            let user = try context.requireIdentity()
            return try await booking(try context.parameters.requireDecoded("id"), for: user)
        }
        bookings.post(":id/cancel") { request, context -> BookingBody in
            let user = try context.requireIdentity()
            let id = try context.parameters.requireDecoded("id")
            try await inventory.cancel(event: Self.event(of: id), bookingID: id, user: user.userID)
            return try await booking(id, for: user)
        }
        router.post("internal/v1/bookings/:id/payment-started") { request, context -> BookingBody in
            let caller = try context.requireIdentity()
            guard caller.roles.contains("service") else { throw BookingError.serviceOnly }
            let id = try context.parameters.requireDecoded("id")
            let event = try Self.event(of: id)
            try await inventory.startPayment(event: event, bookingID: id, grace: paymentGrace)
            return try await booking(id, owner: nil)
        }
        bookings.get { request, context -> BookingPage in
            let user = try context.requireIdentity()
            let number = try request.integerQuery("page", default: 1, in: 1...1_000_000)
            let perPage = try request.integerQuery("per_page", default: 20, in: 1...100)
            return try await page(of: user.userID, page: number, perPage: perPage)
        }
    }

    /// The event a booking id names (`<event>:<uuid>`).
    static func event(of bookingID: String) throws(BookingError) -> String {
        guard let colon = bookingID.firstIndex(of: ":") else { throw .bookingNotFound }
        return String(bookingID[..<colon])
    }

    /// The booking, from Redis (current to the millisecond); someone else's is "not found".
    func booking(_ id: String, for user: GatewayIdentity) async throws -> BookingBody {
        try await booking(id, owner: user.userID)
    }

    /// The booking; when `owner` is given, anyone else's is "not found".
    private func booking(_ id: String, owner expected: String?) async throws -> BookingBody {
        let event = try Self.event(of: id)
        let fields = try await inventory.redisCall {
            try await inventory.redis.hashGet(
                inventory.keys(event).booking(id), fields: ["user", "zone", "quantity", "status", "expires_ms", "total", "currency", "code"]
            )
        }
        guard let owner = fields[0], expected == nil || owner == expected else { throw BookingError.bookingNotFound }
        let number = { (index: Int) in fields[index].flatMap { Int($0) } ?? 0 }
        let status = fields[3] ?? "held"
        return BookingBody(
            bookingID: id, eventID: event, zoneID: fields[1] ?? "", quantity: number(2),
            status: status == "held" ? "reserved" : status,
            expiresAt: Date(timeIntervalSince1970: Double(number(4)) / 1000), total: number(5), currency: fields[6] ?? "",
            confirmationCode: fields[7]
        )
    }

    /// The user's bookings, newest first, from Postgres (a fraction of a second behind Redis).
    func page(of user: String, page: Int, perPage: Int) async throws -> BookingPage {
        let offset = (page - 1) * perPage
        var bookings: [BookingBody] = []
        let rows = try await postgres.query("""
            SELECT id, event_id, zone_id, quantity, status, expires_at, total_minor, currency
            FROM booking.bookings WHERE user_id = \(user) ORDER BY created_at DESC, id LIMIT \(perPage) OFFSET \(offset)
            """, logger: logger)
        for try await (id, event, zone, quantity, status, expires, total, currency) in rows.decode((String, String, String, Int, String, Date, Int64, String).self) {
            bookings.append(BookingBody(
                bookingID: id, eventID: event, zoneID: zone, quantity: quantity, status: status == "held" ? "reserved" : status,
                expiresAt: expires, total: Int(total), currency: currency
            ))
        }
        var count = 0
        for try await total in try await postgres.query("SELECT count(*)::int FROM booking.bookings WHERE user_id = \(user)", logger: logger).decode(Int.self) {
            count = total
        }
        return BookingPage(bookings: bookings, page: page, perPage: perPage, totalCount: count)
    }
}
