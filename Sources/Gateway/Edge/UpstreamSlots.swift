import Synchronization

/// How many of this gateway's requests one upstream of a route has in hand at once: at most
/// ``maximum``, the route's `max_connections` (as nginx's `max_conns`). A slow upstream then
/// meets a bounded number of connections from each gateway instead of one more per waiting
/// client, and the requests beyond go to the route's other upstreams or get 503 `upstream-busy`
/// at once. Shared by the event loops; a slot is held from the connect until the upstream
/// connection goes back to the pool or closes.
final class UpstreamSlots: Sendable, Hashable {
    /// Most requests in hand at once.
    let maximum: Int
    private let inUse = Atomic<Int>(0)

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Takes a slot; false when all ``maximum`` are taken.
    func take() -> Bool {
        if inUse.wrappingAdd(1, ordering: .relaxed).newValue <= maximum { return true }
        inUse.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    /// Gives back a slot taken with ``take()``.
    func give() {
        inUse.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Slots taken now.
    var current: Int { inUse.load(ordering: .relaxed) }

    static func == (lhs: UpstreamSlots, rhs: UpstreamSlots) -> Bool { lhs === rhs }

    func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(self))
    }
}
