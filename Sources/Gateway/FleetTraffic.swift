import Foundation
import Logging
import NIOCore
import Redis
import ServiceKit
import ServiceLifecycle

/// The traffic of every gateway of a fleet, pooled through Redis: each instance publishes its
/// last minute (``TrafficReport``) every half second under a key that lives a few seconds, and
/// files itself in the fleet's registry; the console's view sums the reports of every instance
/// heard from lately. Work per view is bounded by the fleet's size (at most ``maxInstances``).
struct FleetTraffic: Service {
    /// How often an instance publishes.
    static let interval: Duration = .milliseconds(500)
    /// How long an instance counts as part of the fleet after its last report.
    static let lifetime: Duration = .seconds(5)
    /// Most instances a view reads.
    static let maxInstances = 100

    let window: TrafficWindow
    let redis: RedisClient
    let fleet: String
    let instance: String
    /// Its stamp goes in this instance's reports.
    let routeTable: LiveRouteTable
    let logger: Logger
    /// Whether another process publishes under this instance's name.
    let nameClaim = InstanceNameClaim()

    /// The fleet's registry: instance → Unix ms of its latest report.
    var registryKey: String { redis.keySpace.tagged("fleet:" + fleet) + ":traffic" }

    func reportKey(_ instance: String) -> String { "\(registryKey):\(instance)" }

    func run() async throws {
        await PeriodicWorker.run("publishing the traffic report", every: Self.interval, logger: logger) { try await publish() }
        // Leaving the fleet at once rather than when the last report expires.
        _ = try? await redis.delete([reportKey(instance)])
        _ = try? await redis.sortedSetRemove(registryKey, member: instance)
    }

    /// Publishes this instance's report, and notes whether the one it replaced came from another
    /// process (``InstanceNameClaim``).
    func publish() async throws {
        let report = ownReport()
        let json = try JSONEncoder().encode(report)
        let replaced = try await redis.replace(reportKey(instance), with: ByteBuffer(bytes: json), expiresIn: Self.lifetime)
        let previousProcess = replaced.flatMap { try? JSONDecoder().decode(ProcessStamp.self, from: Data($0.readableBytesView)).process }
        nameClaim.published(replacing: previousProcess, instance: instance, fleet: fleet, logger: logger)
        try await redis.sortedSetAdd(registryKey, member: instance, score: Self.milliseconds(Date()))
    }

    /// The one field of a report ``publish()`` reads back.
    private struct ProcessStamp: Decodable {
        var process: String?
    }

    /// The fleet's last minute: this instance's report as it stands now, and every other
    /// instance's latest one (at most half a second old, so the last second may lack a share).
    func summary(now: Date = Date()) async throws -> TrafficSummary {
        TrafficSummary(scope: "fleet", reports: try await reports(now: now), end: Int64(now.timeIntervalSince1970))
    }

    /// This instance's report as it stands now, and the latest of every other instance heard
    /// from within ``lifetime`` (instances silent longer leave the registry).
    func reports(now: Date = Date()) async throws -> [TrafficReport] {
        let since = Self.milliseconds(now) - Double(Self.lifetime.components.seconds * 1000)
        try await redis.sortedSetRemove(registryKey, scoresThrough: since)
        let others = try await redis.sortedSetMembers(registryKey, scoresFrom: since, limit: Self.maxInstances).filter { $0 != instance }
        var reports = [ownReport()]
        for case let buffer? in try await redis.getMany(others.map(reportKey)) {
            do {
                reports.append(try JSONDecoder().decode(TrafficReport.self, from: Data(buffer.readableBytesView)))
            } catch {
                logger.debug("unreadable traffic report skipped", metadata: ["error": "\(error)"])
            }
        }
        return reports
    }

    /// This instance's report as it stands now, with its route table's stamp.
    private func ownReport() -> TrafficReport {
        var report = window.report(instance: instance)
        let version = routeTable.current
        report.routeTable = RouteTableStamp(generation: version.generation, digest: version.digest, reloadFailed: routeTable.lastReloadFailure)
        report.process = nameClaim.process
        report.nameShared = nameClaim.isShared ? true : nil
        return report
    }

    private static func milliseconds(_ date: Date) -> Double {
        (date.timeIntervalSince1970 * 1000).rounded()
    }
}
