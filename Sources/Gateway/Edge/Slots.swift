import Synchronization

/// At most ``maximum`` of something held at once, shared by the event loops: the gateway's
/// client connections (``ConnectionLimit``), or the requests this gateway has in hand to one
/// upstream of a route with `max_connections` (as nginx's `max_conns`), so that a slow upstream
/// meets a bounded number of connections from each gateway instead of one more per waiting
/// client; the requests beyond go to the route's other upstreams or get 503 `upstream-busy` at
/// once. An upstream's slot is held from the connect until the connection goes back to the pool
/// or closes.
final class Slots: Sendable, Hashable {
    /// Most held at once.
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

    static func == (lhs: Slots, rhs: Slots) -> Bool { lhs === rhs }

    func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(self))
    }
}
