import Logging
import Redis
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Route-table reloads asked of a whole fleet (`POST /admin/v1/routes/reload?scope=fleet`):
/// the instance asked reloads at once and counts the request in Redis; every instance reads the
/// count every half second and, when it has risen, reloads its own route file. A fleet behind a
/// load balancer is reloaded by one call, each instance from its own copy of the file; the fleet's
/// view of the traffic (`GET /admin/v1/traffic`) shows which table each instance then runs.
///
/// An instance whose file does not load keeps the table in force and tries its file again after
/// 1, 2, 4, 8 and 16 s (``retryDelays``): a file that reaches some hosts a little after the reload
/// was asked for (a config push still under way) is taken up without another call.
final class FleetRouteReloads: Service, Sendable {
    /// How often an instance looks for a fleet reload.
    static let interval: Duration = .milliseconds(500)
    /// How long after each failed fleet reload the instance tries its file again.
    static let retryDelays: [Duration] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)]

    /// A fleet reload this instance has still to take: its next try and the tries made so far.
    private struct Retry {
        var tries: Int
        var at: ContinuousClock.Instant
    }

    let redis: RedisClient
    let fleet: String
    let routeTable: LiveRouteTable
    let logger: Logger
    /// The latest count this instance has acted on; nil until it first reads it (it then loaded
    /// its file at start, so the count it finds is already done).
    private let seen = Mutex<Int?>(nil)
    private let retry = Mutex<Retry?>(nil)
    private let retryDelays: [Duration]

    init(redis: RedisClient, fleet: String, routeTable: LiveRouteTable, logger: Logger, retryDelays: [Duration] = FleetRouteReloads.retryDelays) {
        self.redis = redis
        self.fleet = fleet
        self.routeTable = routeTable
        self.logger = logger
        self.retryDelays = retryDelays
    }

    /// The fleet's count of reloads asked for.
    var countKey: String { redis.keySpace.tagged("fleet:" + fleet) + ":routes-reload" }

    func run() async throws {
        await PeriodicWorker.run("looking for fleet route reloads", every: Self.interval, logger: logger) { try await self.check() }
    }

    /// Reloads this instance's table, then asks every other instance of the fleet to reload theirs.
    /// Nothing is asked of the fleet when this instance's file does not load.
    func reloadFleet() async throws -> LiveRouteTable.Version {
        let version = try routeTable.reload()
        let count = try await redis.increment(countKey)
        seen.withLock { $0 = max($0 ?? 0, count) }
        return version
    }

    /// Reloads this instance's table when the fleet's count has risen since it last looked, or
    /// when a fleet reload that failed here is due to be tried again.
    func check() async throws {
        let count = Int(try await redis.getString(countKey) ?? "0") ?? 0
        let due = seen.withLock { seen -> Bool in
            defer { seen = max(seen ?? count, count) }
            return seen.map { count > $0 } ?? false
        }
        let now = ContinuousClock.now
        let tries = retry.withLock { retry -> Int? in
            if due { retry = nil }
            guard !due else { return 0 }
            guard let pending = retry, now >= pending.at else { return nil }
            return pending.tries
        }
        guard let tries else { return }
        do {
            let version = try routeTable.reload()
            retry.withLock { $0 = nil }
            logger.notice("route table reloaded for the fleet", metadata: ["generation": "\(version.generation)", "digest": "\(version.digest)"])
        } catch {
            let delay = tries < retryDelays.count ? retryDelays[tries] : nil
            retry.withLock { $0 = delay.map { Retry(tries: tries + 1, at: now + $0) } }
            logger.error(
                "route table not reloaded for the fleet: the table in force stays",
                metadata: ["error": "\(error)", "retry_in": "\(delay.map { "\($0)" } ?? "never: the next fleet reload tries again")"]
            )
        }
    }
}
