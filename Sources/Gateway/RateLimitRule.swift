/// One rate-limit rule of a route: at most `limit` requests per `period` seconds per subject,
/// with up to `burst` at once.
public struct RateLimitRule: Sendable, Codable, Hashable {
    /// What a subject is: `ip` (client address), `user` (user id, or the address when
    /// anonymous), `route` (everyone together), or `header:Name` (the value of a header).
    public enum Subject: Sendable, Hashable {
        case ip, user, route
        case header(String)
    }

    /// What to do when Redis cannot answer in time.
    public enum FailMode: String, Sendable, Codable {
        /// Let the request through.
        case open
        /// Refuse it with 503.
        case closed
    }

    /// Where the rule's buckets live.
    public enum Scope: String, Sendable, Codable {
        /// In Redis, shared by every gateway: one limit for the fleet.
        case fleet
        /// In this gateway's memory: each instance enforces the limit on what it serves, and
        /// checking costs no Redis call (for requests, such as waiting-room polls, that must not).
        case instance
    }

    public var name: String
    public var key: String
    public var limit: Int
    public var period: Double
    public var burst: Int?
    public var fail: FailMode
    public var scope: Scope
    /// Tokens a gateway takes from Redis at once for a fleet rule and hands out itself for up to
    /// ``RateLimitLeases/defaultLifetime`` (1, the default: every request is charged in Redis, those
    /// of one tick with the same keys by one script call, ``RateLimitCharges``). See
    /// ``RateLimitLeases`` for what a lease costs in exactness.
    public var lease: Int?

    enum CodingKeys: String, CodingKey, CaseIterable { case name, key, limit, period = "period_s", burst, fail, scope, lease }

    public init(
        name: String, key: String, limit: Int, period: Double, burst: Int? = nil, fail: FailMode = .open, scope: Scope = .fleet,
        lease: Int? = nil
    ) {
        self.name = name
        self.key = key
        self.limit = limit
        self.period = period
        self.burst = burst
        self.fail = fail
        self.scope = scope
        self.lease = lease
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            key: try container.decode(String.self, forKey: .key),
            limit: try container.decode(Int.self, forKey: .limit),
            period: try container.decode(Double.self, forKey: .period),
            burst: try container.decodeIfPresent(Int.self, forKey: .burst),
            fail: try container.decodeIfPresent(FailMode.self, forKey: .fail) ?? .open,
            scope: try container.decodeIfPresent(Scope.self, forKey: .scope) ?? .fleet,
            lease: try container.decodeIfPresent(Int.self, forKey: .lease)
        )
    }

    public var subject: Subject? {
        switch key {
        case "ip": .ip
        case "user": .user
        case "route": .route
        case let key where key.hasPrefix("header:") && key.count > 7: .header(String(key.dropFirst(7)))
        default: nil
        }
    }

    /// Requests admitted at once from a full bucket.
    public var effectiveBurst: Int { burst ?? limit }

    /// Tokens taken from Redis per script call: the request's own and the leased ones.
    var effectiveLease: Int { lease ?? 1 }

    /// The largest burst a rule takes: a bucket's whole drain time (burst × emission) then stays
    /// far inside the 128-bit durations of instance-scoped buckets (a burst of 2^62 on a daily
    /// limit overflowed them, ending the process on the first request).
    static let largestBurst = 1_000_000_000

    /// Microseconds between two requests at the sustained rate.
    var emissionMicroseconds: Int { Int((period * 1_000_000 / Double(limit)).rounded()) }

    func validate(route: String) throws {
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") }) else {
            throw GatewayConfigurationError("route '\(route)': rate-limit rule names are plain ASCII without quotes")
        }
        guard subject != nil else { throw GatewayConfigurationError("route '\(route)': rule '\(name)' has unknown key '\(key)'") }
        guard limit > 0, period > 0, period <= 86_400, effectiveBurst > 0 else {
            throw GatewayConfigurationError("route '\(route)': rule '\(name)' needs limit > 0, 0 < period_s ≤ 86400, burst > 0")
        }
        guard effectiveBurst <= Self.largestBurst else {
            throw GatewayConfigurationError("route '\(route)': rule '\(name)' needs burst (the limit when burst is not given) ≤ 1,000,000,000")
        }
        guard Double(limit) <= period * 1_000_000 else {
            throw GatewayConfigurationError("route '\(route)': rule '\(name)' allows more than one request a microsecond (limit ≤ period_s × 1,000,000)")
        }
        if let lease {
            guard lease >= 1, lease <= effectiveBurst else {
                throw GatewayConfigurationError("route '\(route)': rule '\(name)' needs 1 ≤ lease ≤ burst (\(effectiveBurst))")
            }
            guard scope == .fleet else {
                throw GatewayConfigurationError("route '\(route)': rule '\(name)' is scoped to the instance: it has no lease")
            }
        }
    }
}
