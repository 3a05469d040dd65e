/// Settings of adaptive release: the gateway measures the upstream routes a room guards (p99
/// latency and the share of 5xx and timeouts, pooled across the fleet) and moves the room's
/// release rate between `minRate` and `maxRate` — additive increase while the upstream is inside
/// its targets, multiplicative decrease when it leaves them, then a hold-off.
public struct AdaptiveRelease: Sendable, Codable, Hashable {
    /// Lowest release rate the controller sets (visitors/s).
    public var minRate: Double
    /// Highest release rate the controller sets (visitors/s).
    public var maxRate: Double
    /// The upstream's p99 latency target in milliseconds.
    public var p99TargetMilliseconds: Double
    /// Share of responses (0–1) that may be 5xx or timeouts.
    public var errorBudget: Double
    /// Visitors/s added per healthy interval.
    public var increaseStep: Double
    /// Factor the rate is multiplied by when the upstream leaves its targets (0.1–0.95).
    public var decreaseFactor: Double
    /// Seconds without an increase after a decrease.
    public var holdOffSeconds: Double
    /// Seconds between decisions, fleet-wide.
    public var intervalSeconds: Double
    /// Fewest responses in the window to judge the upstream by.
    public var minSamples: Int
    /// Proxied routes (route-table names) whose health counts; nil: every route with a queue pass.
    public var routes: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case minRate = "min_rate", maxRate = "max_rate", p99TargetMilliseconds = "p99_target_ms", errorBudget = "error_budget"
        case increaseStep = "increase_step", decreaseFactor = "decrease_factor", holdOffSeconds = "hold_off_s"
        case intervalSeconds = "interval_s", minSamples = "min_samples", routes
    }

    public init(
        minRate: Double, maxRate: Double, p99TargetMilliseconds: Double, errorBudget: Double = 0.01, increaseStep: Double? = nil,
        decreaseFactor: Double = 0.7, holdOffSeconds: Double = 15, intervalSeconds: Double = 5, minSamples: Int = 20, routes: [String]? = nil
    ) {
        self.minRate = minRate
        self.maxRate = maxRate
        self.p99TargetMilliseconds = p99TargetMilliseconds
        self.errorBudget = errorBudget
        self.increaseStep = increaseStep ?? max(1, ((maxRate - minRate) / 20).rounded())
        self.decreaseFactor = decreaseFactor
        self.holdOffSeconds = holdOffSeconds
        self.intervalSeconds = intervalSeconds
        self.minSamples = minSamples
        self.routes = routes
    }

    /// Decodes the settings; `min_rate`, `max_rate` and `p99_target_ms` are required, the rest
    /// take their defaults: error_budget 0.01, increase_step 1/20 of the range (at least 1),
    /// decrease_factor 0.7, hold_off_s 15, interval_s 5, min_samples 20, every guarded route.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let minRate = try container.decode(Double.self, forKey: .minRate)
        let maxRate = try container.decode(Double.self, forKey: .maxRate)
        self.init(
            minRate: minRate, maxRate: maxRate, p99TargetMilliseconds: try container.decode(Double.self, forKey: .p99TargetMilliseconds),
            errorBudget: try container.decodeIfPresent(Double.self, forKey: .errorBudget) ?? 0.01,
            increaseStep: try container.decodeIfPresent(Double.self, forKey: .increaseStep),
            decreaseFactor: try container.decodeIfPresent(Double.self, forKey: .decreaseFactor) ?? 0.7,
            holdOffSeconds: try container.decodeIfPresent(Double.self, forKey: .holdOffSeconds) ?? 15,
            intervalSeconds: try container.decodeIfPresent(Double.self, forKey: .intervalSeconds) ?? 5,
            minSamples: try container.decodeIfPresent(Int.self, forKey: .minSamples) ?? 20,
            routes: try container.decodeIfPresent([String].self, forKey: .routes)
        )
    }

    /// Checks every field's range.
    public func validate() throws(QueueError) {
        func check(_ valid: Bool, _ field: String, _ detail: String) throws(QueueError) {
            guard valid else { throw .invalidConfiguration(field: "adaptive.\(field)", detail) }
        }
        try check(
            minRate.isFinite && (minRate == 0 || (RoomConfiguration.slowestRelease...100_000).contains(minRate)), "min_rate",
            "adaptive.min_rate must be 0 or between 0.001 and 100000 visitors per second"
        )
        try check(maxRate.isFinite && maxRate >= minRate && maxRate > 0 && maxRate <= 100_000, "max_rate", "adaptive.max_rate must be above 0, at least min_rate and at most 100000")
        try check(p99TargetMilliseconds.isFinite && (1...600_000).contains(p99TargetMilliseconds), "p99_target_ms", "adaptive.p99_target_ms must be between 1 and 600000")
        try check(errorBudget.isFinite && (0...1).contains(errorBudget), "error_budget", "adaptive.error_budget must be a share between 0 and 1")
        try check(increaseStep.isFinite && increaseStep > 0 && increaseStep <= 100_000, "increase_step", "adaptive.increase_step must be above 0 and at most 100000")
        try check(decreaseFactor.isFinite && (0.1...0.95).contains(decreaseFactor), "decrease_factor", "adaptive.decrease_factor must be between 0.1 and 0.95")
        try check(holdOffSeconds.isFinite && (0...3_600).contains(holdOffSeconds), "hold_off_s", "adaptive.hold_off_s must be between 0 and 3600")
        try check(intervalSeconds.isFinite && (0.5...600).contains(intervalSeconds), "interval_s", "adaptive.interval_s must be between 0.5 and 600")
        try check((0...1_000_000).contains(minSamples), "min_samples", "adaptive.min_samples must be between 0 and 1000000")
        if let routes {
            try check(
                routes.count <= 32 && routes.allSatisfy { !$0.isEmpty && $0.count <= 64 && !$0.contains(",") },
                "routes", "adaptive.routes names at most 32 routes of the route table"
            )
        }
    }

    /// The settings as room-hash fields (`adaptive` 1 with them, 0 for none).
    static func redisFields(_ adaptive: AdaptiveRelease?) -> [(String, String)] {
        guard let adaptive else { return [("adaptive", "0")] }
        return [
            ("adaptive", "1"), ("adaptive_min", "\(adaptive.minRate)"), ("adaptive_max", "\(adaptive.maxRate)"),
            ("adaptive_p99_ms", "\(adaptive.p99TargetMilliseconds)"), ("adaptive_error_budget", "\(adaptive.errorBudget)"),
            ("adaptive_step", "\(adaptive.increaseStep)"), ("adaptive_factor", "\(adaptive.decreaseFactor)"),
            ("adaptive_hold_s", "\(adaptive.holdOffSeconds)"), ("adaptive_interval_s", "\(adaptive.intervalSeconds)"),
            ("adaptive_min_samples", "\(adaptive.minSamples)"), ("adaptive_routes", adaptive.routes?.joined(separator: ",") ?? ""),
        ]
    }

    /// The settings from a room hash; nil when adaptation is off.
    init?(hash: [String: String]) {
        guard hash["adaptive"] == "1", let minRate = hash["adaptive_min"].flatMap(Double.init),
              let maxRate = hash["adaptive_max"].flatMap(Double.init), let target = hash["adaptive_p99_ms"].flatMap(Double.init)
        else { return nil }
        let routes = hash["adaptive_routes"].flatMap { $0.isEmpty ? nil : $0.split(separator: ",").map(String.init) }
        self.init(
            minRate: minRate, maxRate: maxRate, p99TargetMilliseconds: target,
            errorBudget: hash["adaptive_error_budget"].flatMap(Double.init) ?? 0.01,
            increaseStep: hash["adaptive_step"].flatMap(Double.init),
            decreaseFactor: hash["adaptive_factor"].flatMap(Double.init) ?? 0.7,
            holdOffSeconds: hash["adaptive_hold_s"].flatMap(Double.init) ?? 15,
            intervalSeconds: hash["adaptive_interval_s"].flatMap(Double.init) ?? 5,
            minSamples: hash["adaptive_min_samples"].flatMap { Int($0) } ?? 20,
            routes: routes
        )
    }
}
