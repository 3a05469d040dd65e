/// Why a waiting-room operation was refused.
public enum QueueError: Error, Sendable, Hashable {
    /// The event has no waiting room.
    case roomNotFound(event: String)
    /// The room refuses joins.
    case roomClosed(event: String)
    /// The visitor never joined, or left.
    case notInQueue
    /// The visitor stopped polling and lost the place.
    case placeLost
    /// The visitor's pass expired; they may join again.
    case passExpired
    /// The event id is not usable.
    case invalidEvent(String)
    /// A room setting is out of range: the field (as in the admin API's JSON) and why.
    case invalidConfiguration(field: String, String)
    /// The room asks new visitors for a proof of work of `difficulty` bits, and the join had none.
    case proofRequired(event: String, difficulty: Int)
    /// The proof of work is forged, for another room, expired, too weak or already used.
    case proofInvalid(String)
    /// Redis could not be reached or answered unexpectedly.
    case unavailable(String)
}
