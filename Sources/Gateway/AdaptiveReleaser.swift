import Logging
import Metrics
import Queue
import ServiceKit
import ServiceLifecycle

/// Adaptive release for every room that has it on: every second the health of the upstream
/// routes a room guards — pooled from every gateway's traffic report — is offered to the room's
/// controller (`room_adapt.lua`), which takes at most one decision per interval for the whole
/// fleet. Rooms without adaptation cost one settings read per tick.
struct AdaptiveReleaser: Service {
    static let tick: Duration = .seconds(1)

    let room: WaitingRoom
    let traffic: FleetTraffic
    /// Its guarded routes are measured when a room names none: every proxied route with a queue pass.
    let routeTable: LiveRouteTable
    let logger: Logger

    func run() async throws {
        await PeriodicWorker.run("adaptive release", every: Self.tick, logger: logger) { await step() }
    }

    /// One controller step for every adaptive room.
    func step() async {
        let events: [String]
        do {
            events = try await room.events()
        } catch {
            logger.debug("listing rooms for adaptive release failed", metadata: ["error": "\(error)"])
            return
        }
        var reports: [TrafficReport]?
        for event in events {
            guard let description = try? await room.describe(event: event), let adaptive = description.configuration.adaptive,
                  description.configuration.mode == .queue
            else { continue }
            do {
                if reports == nil { reports = try await traffic.reports() }
                let health = Self.health(of: adaptive.routes ?? routeTable.current.table.guardedRoutes, in: reports ?? [], windowSeconds: traffic.window.recentSeconds)
                let step = try await room.adapt(event: event, health: health, instance: traffic.instance)
                record(event: event, step: step, health: health)
            } catch {
                logger.warning("adaptive release step failed", metadata: ["event": "\(event)", "error": "\(error)"])
            }
        }
    }

    /// The pooled health of `routes` over every report's recent window.
    static func health(of routes: [String], in reports: [TrafficReport], windowSeconds: Int) -> UpstreamHealth {
        var pooled = RouteTraffic(route: "")
        for report in reports {
            for route in report.recent where routes.contains(route.route) { pooled.add(route) }
        }
        return UpstreamHealth(
            p99Milliseconds: pooled.latency.percentile(0.99),
            errorRate: pooled.total > 0 ? Double(pooled.serverErrors) / Double(pooled.total) : 0,
            samples: pooled.total, windowSeconds: windowSeconds
        )
    }

    private func record(event: String, step: AdaptiveStep, health: UpstreamHealth) {
        guard !["wait", "off", "gone"].contains(step.action) else { return }
        Metrics.Gauge(label: "gateway_adaptive_release_rate", dimensions: [("event", event)]).record(step.to)
        if let p99 = health.p99Milliseconds {
            Metrics.Gauge(label: "gateway_adaptive_upstream_p99_seconds", dimensions: [("event", event)]).record(p99 / 1000)
        }
        Metrics.Counter(label: "gateway_adaptive_steps_total", dimensions: [("event", event), ("action", step.action)]).increment()
        if step.from != step.to {
            logger.info("adaptive release rate changed", metadata: [
                "event": "\(event)", "action": "\(step.action)", "from": "\(step.from)", "to": "\(step.to)", "reason": "\(step.reason)",
            ])
        }
    }
}
