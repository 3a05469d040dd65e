#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// How many client connections the gateway holds at once. Every connection is a file
/// descriptor, and a process that runs out of them fails in ways no handler can catch (the
/// concurrency runtime's thread pool monitor traps when it cannot open `/proc`), so a flood of
/// connections or a crowd of event streams must meet a limit below the descriptor limit: a
/// connection beyond it is closed as soon as it is accepted, and counted.
///
/// Upstream connections draw on the same descriptors: one is opened only while client and
/// upstream connections together leave ``keptDescriptors`` free, so a crowd of slow proxied
/// requests meets a 503 instead of a process out of descriptors.
final class ConnectionLimit: Sendable {
    /// Descriptors kept for what is neither a client nor an upstream connection: Redis and
    /// database connections, the listening socket, the event loops' own descriptors, logs and
    /// the runtime (about 20 on an idle gateway).
    static let keptDescriptors = 64

    /// Most client connections held at once.
    var maximum: Int { clients.maximum }
    /// The process's open-files limit.
    let descriptors: Int
    private let clients: Slots
    private let upstreams = Atomic<Int>(0)
    private let refused = Metrics.Counter(label: "gateway_connections_refused_total")
    private let upstreamsRefused = Metrics.Counter(label: "gateway_upstream_connections_refused_total")
    private let openNow = Metrics.Meter(label: "gateway_connections_open")

    init(maximum: Int, descriptors: Int = raiseDescriptorLimit()) {
        self.clients = Slots(maximum: maximum)
        self.descriptors = descriptors
        Metrics.Gauge(label: "gateway_connections_limit").record(maximum)
    }

    /// A limit below the process's file-descriptor limit, raised first to its hard limit: an
    /// eighth of the descriptors (at least ``keptDescriptors``) stay for upstream, Redis and
    /// database connections and the runtime.
    static func belowDescriptorLimit() -> ConnectionLimit {
        let descriptors = raiseDescriptorLimit()
        return ConnectionLimit(maximum: max(1, descriptors - max(keptDescriptors, descriptors / 8)), descriptors: descriptors)
    }

    /// The most client connections a gateway may be told to hold (`GATEWAY_MAX_CONNECTIONS`):
    /// the open-files limit, raised to its hard limit, less ``keptDescriptors``.
    static func largestMaximum() -> Int {
        raiseDescriptorLimit() - keptDescriptors
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
        guard clients.take() else {
            refused.increment()
            return false
        }
        openNow.increment()
        return true
    }

    /// Gives back a connection's place once it has closed.
    func release() {
        clients.give()
        openNow.decrement()
    }

    /// Client connections open now.
    var current: Int { clients.current }

    /// Takes a descriptor for a new upstream connection; false (and counted) when client and
    /// upstream connections would leave fewer than ``keptDescriptors`` free.
    func admitUpstream() -> Bool {
        let upstreamsNow = upstreams.wrappingAdd(1, ordering: .relaxed).newValue
        if upstreamsNow + clients.current <= descriptors - Self.keptDescriptors { return true }
        upstreams.wrappingSubtract(1, ordering: .relaxed)
        upstreamsRefused.increment()
        return false
    }

    /// Gives back an upstream connection's descriptor once it has closed (or failed to connect).
    func releaseUpstream() {
        upstreams.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Upstream connections open or being opened now.
    var currentUpstreams: Int { upstreams.load(ordering: .relaxed) }
}

/// No descriptor to spare for an upstream connection (``ConnectionLimit/admitUpstream()``), or
/// the system refused one (`EMFILE`, `ENFILE`): the gateway is full, the upstream is not at fault.
struct DescriptorsExhausted: Error {
    /// Whether `error` is the system running out of descriptors while opening a connection.
    static func describes(_ error: any Error) -> Bool {
        switch error {
        case is DescriptorsExhausted: return true
        case let error as IOError: return error.errnoCode == EMFILE || error.errnoCode == ENFILE
        case let error as NIOConnectionError: return error.connectionErrors.contains { describes($0.error) }
        default: return false
        }
    }
}

/// A connection accepted over the gateway's ``ConnectionLimit``.
struct ConnectionLimitReached: Error {}
