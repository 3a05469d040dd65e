import Crypto
import Foundation
import HTTPTypes
import Logging
import NIOCore
import ServiceKit
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Where the gateway's route table is read from, so that it can be read again.
public struct RouteTableSource: Sendable, Hashable {
    /// The JSON file.
    public var path: String
    /// The `ROUTE_<NAME>_UPSTREAMS` overrides applied over the file (see ``RouteTable/load(path:environment:)``).
    public var environment: [String: String]

    public init(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.path = path
        self.environment = environment.filter { $0.key.hasPrefix("ROUTE_") && $0.key.hasSuffix("_UPSTREAMS") }
    }
}

/// Why the route table was not reloaded; the table in force stays.
public enum RouteTableReloadError: Error, Sendable, Equatable {
    /// The gateway was started without a route file, so there is nothing to read again.
    case noSource
    /// The file cannot be read or is not a valid route table.
    case invalid(String)
}

/// The route table in force, which an operator can reload from its file (`SIGHUP`, or
/// `POST /admin/v1/routes/reload`) without a restart: requests already under way finish on the
/// table they started with, the next ones take the new one, and no connection is dropped. A file
/// that does not load leaves the table in force as it was.
public final class LiveRouteTable: Sendable {
    /// One table as loaded.
    public struct Version: Sendable {
        public let table: RouteTable
        /// 1 for the table the gateway started with, one more for each reload that took.
        public let generation: Int
        /// SHA-256 (hex) of the table as loaded, overrides applied: equal on gateways that run the same table.
        public let digest: String
        public let loadedAt: Date
        /// Who may set the client address, from the table's `trusted_proxies`.
        let addresses: ClientAddressResolver

        init(table: RouteTable, generation: Int) {
            self.table = table
            self.generation = generation
            self.digest = Self.digest(of: table)
            self.loadedAt = Date()
            self.addresses = ClientAddressResolver(trustedProxies: table.trustedProxies)
        }

        static func digest(of table: RouteTable) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let bytes = (try? encoder.encode(table)) ?? Data()
            return SHA256.hash(data: bytes).hexString
        }
    }

    public let source: RouteTableSource?
    private let state: Mutex<Version>
    /// Those who act on a new table (the edge compiles its routes), called in the order they came.
    private let observers = Mutex<[@Sendable (Version) -> Void]>([])
    /// One reload at a time, so observers see the tables in the order they were loaded.
    private let reloading = Mutex<Void>(())
    private let failure = Mutex<String?>(nil)

    public init(_ table: RouteTable, source: RouteTableSource?) {
        self.source = source
        self.state = Mutex(Version(table: table, generation: 1))
    }

    /// Why the latest reload did not take (the table in force then stays), or nil when it took or
    /// none was tried: the fleet's view shows it beside the instance's table.
    public var lastReloadFailure: String? {
        failure.withLock { $0 }
    }

    /// The table in force.
    public var current: Version {
        state.withLock { $0 }
    }

    /// Calls `apply` with the table in force now and with every table a reload brings later.
    func observe(_ apply: @escaping @Sendable (Version) -> Void) {
        reloading.withLock { _ in
            observers.withLock { $0.append(apply) }
            apply(current)
        }
    }

    /// The client's address of a request the router serves: the peer's, or the one a trusted
    /// proxy of the table in force forwarded.
    func clientAddress(peer: SocketAddress?, headers: HTTPFields) -> String {
        current.addresses.clientAddress(peer: peer, headers: headers)
    }

    /// Reads the route file again and puts it in force, or throws and leaves the table as it was.
    @discardableResult
    public func reload() throws(RouteTableReloadError) -> Version {
        guard let source else { throw .noSource }
        return try reloading.withLock { _ throws(RouteTableReloadError) -> Version in
            let table: RouteTable
            do {
                table = try RouteTable.load(path: source.path, environment: source.environment)
            } catch {
                GatewayMetrics.routeTableReloaded(ok: false)
                failure.withLock { $0 = String("\(error)".prefix(300)) }
                throw .invalid("\(error)")
            }
            failure.withLock { $0 = nil }
            let version = state.withLock { state in
                state = Version(table: table, generation: state.generation + 1)
                return state
            }
            for apply in observers.withLock({ $0 }) { apply(version) }
            GatewayMetrics.routeTableReloaded(ok: true)
            return version
        }
    }
}

extension RouteTable {
    /// The proxied routes a queue pass guards: what adaptive release measures unless a room names its own.
    var guardedRoutes: [String] {
        routes.filter { $0.queuePass != nil }.map(\.name)
    }
}

/// Reloads the route table on `SIGHUP`, as nginx does; a file that does not load is logged and the
/// table in force stays.
struct RouteTableReloadSignals: Service {
    let routeTable: LiveRouteTable
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                let version = try routeTable.reload()
                logger.notice("route table reloaded on SIGHUP", metadata: [
                    "generation": "\(version.generation)", "digest": "\(version.digest)", "routes": "\(version.table.routes.count)",
                ])
            } catch {
                logger.error("route table not reloaded: the table in force stays", metadata: ["error": "\(error)"])
            }
        }
    }
}
