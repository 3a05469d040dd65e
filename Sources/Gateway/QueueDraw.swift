import Hummingbird
import Queue

/// The public record of a room's pre-queue lottery: the commitment to its seed from the room's
/// creation, the seed itself once the room has opened, and the rule that orders the draw, so
/// anyone can check that the seed was fixed in advance and recompute the order.
struct QueueDrawBody: Encodable, Sendable, Equatable {
    static let rule = "pre-queue visitors are admitted in ascending order of the first 13 hex digits of "
        + "SHA-1(seed + \":\" + visitor) read as a number (ties by visitor id), ahead of everyone who joined after opens_at"

    var event: String
    var opensAt: Int64?
    var opened: Bool
    var seedCommitment: String?
    var seed: String?
    var prequeueSize: Int?
    var rule: String

    init(_ description: RoomDescription) {
        self.event = description.event
        self.opensAt = description.configuration.opensAt
        self.opened = description.opened
        self.seedCommitment = description.seedCommitment
        self.seed = description.seed
        self.prequeueSize = description.prequeueSize
        self.rule = Self.rule
    }

    enum CodingKeys: String, CodingKey {
        case event, opensAt = "opens_at", opened, seedCommitment = "seed_commitment", seed, prequeueSize = "prequeue_size", rule
    }
}

extension QueueHTTP {
    /// `GET /api/v1/queue/{event}/draw`: the lottery's commitment, and its seed once opened.
    func draw(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let event = try context.parameters.require("event")
        var response = try Response.json(QueueDrawBody(try await room.describe(event: event)))
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
