import Foundation
import HTTPTypes
import Hummingbird
import ServiceKit
import Synchronization

/// Responses of this gateway instance counted per second over the last minute, by status class
/// and by route (with latencies): what the operator console shows as request and error rates,
/// and what the instance reports to the fleet.
final class TrafficWindow: Sendable {
    /// One second's counts.
    struct Second: Sendable, Hashable, Codable {
        var second: Int64
        var total = 0
        var clientErrors = 0
        var rateLimited = 0
        var serverErrors = 0

        enum CodingKeys: String, CodingKey {
            case second, total, clientErrors = "client_errors", rateLimited = "rate_limited", serverErrors = "server_errors"
        }

        /// Counts one response by its status class.
        mutating func record(_ status: Int) {
            Self.count(status, total: &total, clientErrors: &clientErrors, rateLimited: &rateLimited, serverErrors: &serverErrors)
        }

        /// Adds one response of `status` to counts by class (429s are client errors too).
        static func count(_ status: Int, total: inout Int, clientErrors: inout Int, rateLimited: inout Int, serverErrors: inout Int) {
            total += 1
            switch status {
            case 429: clientErrors += 1; rateLimited += 1
            case 400..<500: clientErrors += 1
            case 500...: serverErrors += 1
            default: break
            }
        }

        mutating func add(_ other: Second) {
            total += other.total
            clientErrors += other.clientErrors
            rateLimited += other.rateLimited
            serverErrors += other.serverErrors
        }
    }

    /// One second of the ring: its counts and its routes.
    private struct Slot {
        var counts: Second
        var routes: [String: RouteTraffic] = [:]
    }

    /// One stripe's ring of ``seconds`` slots.
    private final class Stripe: Sendable {
        let slots = Mutex(Array(repeating: Slot(counts: Second(second: -1)), count: TrafficWindow.seconds))
    }

    static let seconds = 60
    static let stripeCount = 8
    /// The last complete seconds reported apart, for judging the upstream's current health.
    let recentSeconds: Int
    /// The ring, one copy per stripe: each thread records into its own, so event loops counting
    /// their responses at once do not wait on each other; a report sums the stripes.
    private let stripes: [Stripe]
    private let now: @Sendable () -> Int64

    init(recentSeconds: Int = 5, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.recentSeconds = min(max(1, recentSeconds), Self.seconds)
        self.now = now
        self.stripes = (0..<Self.stripeCount).map { _ in Stripe() }
    }

    /// Counts one response of `route` (a route table name, or the router's path pattern) that took `duration`.
    func record(_ status: HTTPResponse.Status, route: String = "other", duration: Duration = .zero) {
        let second = now()
        let code = status.code
        stripes[ThreadStripe.current(of: Self.stripeCount)].slots.withLock { slots in
            let index = Int(second % Int64(Self.seconds))
            if slots[index].counts.second != second { slots[index] = Slot(counts: Second(second: second)) }
            slots[index].counts.record(code)
            slots[index].routes[route, default: RouteTraffic(route: route)].record(code, duration: duration)
        }
    }

    /// The last minute as `instance` reports it: every complete second, oldest first (the
    /// current one is left out until it is over), and each route's sum over them and over the
    /// recent seconds.
    func report(instance: String) -> TrafficReport {
        let current = now()
        let stored = stripes.map { stripe in stripe.slots.withLock { $0 } }
        var perSecond: [Second] = []
        var routes: [String: RouteTraffic] = [:]
        var recent: [String: RouteTraffic] = [:]
        for second in (current - Int64(Self.seconds))..<current {
            var counts = Second(second: second)
            for slots in stored {
                let slot = slots[Int(second % Int64(Self.seconds))]
                guard slot.counts.second == second else { continue }
                counts.add(slot.counts)
                for (name, route) in slot.routes {
                    routes[name, default: RouteTraffic(route: name)].add(route)
                    if second >= current - Int64(recentSeconds) { recent[name, default: RouteTraffic(route: name)].add(route) }
                }
            }
            perSecond.append(counts)
        }
        return TrafficReport(
            instance: instance, generatedAt: current, perSecond: perSecond,
            routes: routes.values.sorted { $0.route < $1.route }, recent: recent.values.sorted { $0.route < $1.route }
        )
    }

    /// This instance's last minute.
    func summary(instance: String = "local") -> TrafficSummary {
        let report = report(instance: instance)
        return TrafficSummary(scope: "instance", reports: [report], end: report.generatedAt)
    }
}

/// Counts every response (errors included) into the traffic window under its route pattern,
/// except the admin API's own.
struct TrafficMiddleware<Context: RequestContext>: RouterMiddleware {
    let window: TrafficWindow

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !request.uri.path.hasPrefix("/admin/") else { return try await next(request, context) }
        let started = ContinuousClock.now
        func record(_ status: HTTPResponse.Status) {
            window.record(status, route: context.endpointPath ?? "unmatched", duration: ContinuousClock.now - started)
        }
        return try await recordingStatus({ try await next(request, context) }, record)
    }
}
