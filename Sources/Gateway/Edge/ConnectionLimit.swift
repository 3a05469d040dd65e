#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Metrics
import Synchronization

/// How many client connections the gateway holds at once. Every connection is a file
/// descriptor, and a process that runs out of them fails in ways no handler can catch (the
/// concurrency runtime's thread pool monitor traps when it cannot open `/proc`), so a flood of
/// connections or a crowd of event streams must meet a limit below the descriptor limit: a
/// connection beyond it is closed as soon as it is accepted, and counted.
final class ConnectionLimit: Sendable {
    /// Most client connections held at once.
    let maximum: Int
    private let open = Atomic<Int>(0)
    private let refused = Metrics.Counter(label: "gateway_connections_refused_total")
    private let openNow = Metrics.Meter(label: "gateway_connections_open")

    init(maximum: Int) {
        self.maximum = maximum
        Metrics.Gauge(label: "gateway_connections_limit").record(maximum)
    }

    /// A limit below the process's file-descriptor limit, raised first to its hard limit: an
    /// eighth of the descriptors (at least 64) stay for upstream, Redis and database
    /// connections and the runtime.
    static func belowDescriptorLimit() -> ConnectionLimit {
        let descriptors = raiseDescriptorLimit()
        return ConnectionLimit(maximum: max(1, descriptors - max(64, descriptors / 8)))
    }

    /// Raises the soft limit on open files to the hard limit; the soft limit after.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return 1_024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// Takes a place for a new connection; false (and counted) when the limit is reached.
    func admit() -> Bool {
        if open.wrappingAdd(1, ordering: .relaxed).newValue <= maximum {
            openNow.increment()
            return true
        }
        open.wrappingSubtract(1, ordering: .relaxed)
        refused.increment()
        return false
    }

    /// Gives back a connection's place once it has closed.
    func release() {
        open.wrappingSubtract(1, ordering: .relaxed)
        openNow.decrement()
    }

    /// Client connections open now.
    var current: Int { open.load(ordering: .relaxed) }
}

/// A connection accepted over the gateway's ``ConnectionLimit``.
struct ConnectionLimitReached: Error {}
