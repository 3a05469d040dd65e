/// Redis key names of one event's waiting room.
///
/// Every key of an event carries the hash tag `{evt:ID}`, so all the keys a script touches
/// live in one Redis Cluster slot.
public struct QueueKeys: Sendable, Hashable {
    /// The event id, as it appears in URLs.
    public let event: String

    public init(event: String) {
        self.event = event
    }

    /// The prefix shared by every key of the event: `bk:{evt:ID}:`.
    public var prefix: String { "bk:{evt:\(event)}:" }
}
