import HTTPTypes
import Hummingbird

/// Response times counted in fixed buckets, so that the histograms of every gateway add up to
/// the fleet's and percentiles come from the sum.
struct LatencyHistogram: Sendable, Hashable, Codable {
    /// Upper bounds of the buckets in milliseconds; one more bucket counts everything slower.
    static let boundsMilliseconds: [Double] = [
        0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 10_000,
    ]
    private static let boundsNanoseconds: [Int64] = boundsMilliseconds.map { Int64($0 * 1_000_000) }

    private(set) var counts: [Int]

    init() {
        counts = Array(repeating: 0, count: Self.boundsMilliseconds.count + 1)
    }

    init(from decoder: any Decoder) throws {
        let counts = try decoder.singleValueContainer().decode([Int].self)
        guard counts.count == Self.boundsMilliseconds.count + 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a latency histogram has \(Self.boundsMilliseconds.count + 1) buckets"))
        }
        self.counts = counts
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(counts)
    }

    mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        counts[Self.boundsNanoseconds.firstIndex { nanoseconds <= $0 } ?? Self.boundsNanoseconds.count] += 1
    }

    mutating func add(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
    }

    /// The upper bound (ms) of the bucket holding the `quantile` (0–1) of the responses counted;
    /// the last bound for the slowest bucket; nil when nothing was counted.
    func percentile(_ quantile: Double) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, Int((quantile * Double(total)).rounded(.up)))
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += count
            if seen >= rank { return Self.boundsMilliseconds[min(index, Self.boundsMilliseconds.count - 1)] }
        }
        return Self.boundsMilliseconds.last
    }
}

/// One route's responses: counts by status class and their latencies.
struct RouteTraffic: Sendable, Hashable, Codable {
    var route: String
    var total = 0
    var clientErrors = 0
    var rateLimited = 0
    var serverErrors = 0
    var latency = LatencyHistogram()

    enum CodingKeys: String, CodingKey {
        case route, total, clientErrors = "client_errors", rateLimited = "rate_limited", serverErrors = "server_errors", latency
    }

    mutating func record(_ status: Int, duration: Duration) {
        TrafficWindow.Second.count(status, total: &total, clientErrors: &clientErrors, rateLimited: &rateLimited, serverErrors: &serverErrors)
        latency.record(duration)
    }

    mutating func add(_ other: RouteTraffic) {
        total += other.total
        clientErrors += other.clientErrors
        rateLimited += other.rateLimited
        serverErrors += other.serverErrors
        latency.add(other.latency)
    }
}

/// What one gateway instance reports of its last minute: per-second counts and, per route, the
/// minute's counts and latencies, and the same over its last few seconds (what adaptive release
/// judges the upstream by). Gateways publish it to Redis for the fleet's console and controller.
struct TrafficReport: Sendable, Hashable, Codable {
    var instance: String
    /// Unix seconds at which the report was made.
    var generatedAt: Int64
    var perSecond: [TrafficWindow.Second]
    var routes: [RouteTraffic]
    /// Each route over the window's recent seconds (``TrafficWindow/recentSeconds``).
    var recent: [RouteTraffic]
    /// The route table the instance has in force (set when it publishes to the fleet).
    var routeTable: RouteTableStamp?
    /// The publishing process's token (``InstanceNameClaim/process``).
    var process: String?
    /// True when another process has lately published under the same instance name.
    var nameShared: Bool?

    enum CodingKeys: String, CodingKey {
        case instance, generatedAt = "generated_at", perSecond = "per_second", routes, recent, routeTable = "route_table"
        case process, nameShared = "name_shared"
    }
}

/// Which route table an instance has in force: its generation there and its digest, equal on
/// instances running the same table; and why its latest reload failed, if it did.
struct RouteTableStamp: Sendable, Hashable, Codable {
    var generation: Int
    var digest: String
    var reloadFailed: String?

    enum CodingKeys: String, CodingKey {
        case generation, digest, reloadFailed = "reload_failed"
    }
}

/// `GET /admin/v1/traffic`: the last minute of one instance's or the whole fleet's responses.
struct TrafficSummary: ResponseEncodable, Hashable {
    /// One route over the window, with latency percentiles in milliseconds (bucket upper bounds).
    struct Route: Codable, Hashable {
        var route: String
        var total: Int
        var clientErrors: Int
        var rateLimited: Int
        var serverErrors: Int
        var p50Milliseconds: Double?
        var p99Milliseconds: Double?

        enum CodingKeys: String, CodingKey {
            case route, total, clientErrors = "client_errors", rateLimited = "rate_limited", serverErrors = "server_errors"
            case p50Milliseconds = "p50_ms", p99Milliseconds = "p99_ms"
        }
    }

    /// One gateway's share of the window.
    struct Instance: Codable, Hashable {
        var instance: String
        var total: Int
        var clientErrors: Int
        var serverErrors: Int
        /// Unix seconds of the instance's latest report.
        var reportedAt: Int64
        /// The route table it has in force, when its report says (the fleet's view).
        var routeTable: RouteTableStamp?
        /// Another gateway process publishes under the same instance name (both should be renamed).
        var nameShared: Bool

        enum CodingKeys: String, CodingKey {
            case instance, total, clientErrors = "client_errors", serverErrors = "server_errors", reportedAt = "reported_at"
            case routeTable = "route_table", nameShared = "name_shared"
        }
    }

    /// `fleet` (every gateway that reported in the last few seconds) or `instance` (this one).
    var scope: String
    var windowSeconds: Int
    var total: Int
    var clientErrors: Int
    var rateLimited: Int
    var serverErrors: Int
    var perSecond: [TrafficWindow.Second]
    var routes: [Route]
    var instances: [Instance]

    enum CodingKeys: String, CodingKey {
        case scope, windowSeconds = "window_seconds", total, clientErrors = "client_errors", rateLimited = "rate_limited"
        case serverErrors = "server_errors", perSecond = "per_second", routes, instances
    }

    /// The sum of `reports` over the `TrafficWindow.seconds` seconds before `end` (Unix seconds).
    init(scope: String, reports: [TrafficReport], end: Int64) {
        let start = end - Int64(TrafficWindow.seconds)
        var seconds = (start..<end).map { TrafficWindow.Second(second: $0) }
        var routes: [String: RouteTraffic] = [:]
        var instances: [Instance] = []
        for report in reports {
            var share = Instance(
                instance: report.instance, total: 0, clientErrors: 0, serverErrors: 0, reportedAt: report.generatedAt,
                routeTable: report.routeTable, nameShared: report.nameShared == true
            )
            for second in report.perSecond where second.second >= start && second.second < end {
                seconds[Int(second.second - start)].add(second)
                share.total += second.total
                share.clientErrors += second.clientErrors
                share.serverErrors += second.serverErrors
            }
            for route in report.routes { routes[route.route, default: RouteTraffic(route: route.route)].add(route) }
            instances.append(share)
        }
        self.scope = scope
        self.windowSeconds = TrafficWindow.seconds
        self.total = seconds.reduce(0) { $0 + $1.total }
        self.clientErrors = seconds.reduce(0) { $0 + $1.clientErrors }
        self.rateLimited = seconds.reduce(0) { $0 + $1.rateLimited }
        self.serverErrors = seconds.reduce(0) { $0 + $1.serverErrors }
        self.perSecond = seconds
        self.routes = routes.values.sorted { ($0.total, $1.route) > ($1.total, $0.route) }.map {
            Route(
                route: $0.route, total: $0.total, clientErrors: $0.clientErrors, rateLimited: $0.rateLimited, serverErrors: $0.serverErrors,
                p50Milliseconds: $0.latency.percentile(0.5), p99Milliseconds: $0.latency.percentile(0.99)
            )
        }
        self.instances = instances.sorted { $0.instance < $1.instance }
    }
}
