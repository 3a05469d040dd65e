import Redis

/// How a waiting room treats arrivals.
public enum RoomMode: String, Sendable, Codable, CaseIterable {
    /// No queue: passes are issued at once.
    case open
    /// Visitors queue and are released at `releaseRate`.
    case queue
    /// Visitors may join, nobody is released.
    case paused
    /// Joins are refused.
    case closed
}

/// A room's settings, stored in Redis so that every gateway sees the same.
public struct RoomConfiguration: Sendable, Codable, Hashable {
    public var mode: RoomMode
    /// Visitors released per second.
    public var releaseRate: Double
    /// Most visitors holding a valid pass at once; 0 means no cap.
    public var maxActive: Int
    /// Seconds a pass stays valid (and its slot taken) after admission.
    public var passTTL: Int
    /// Seconds a waiting visitor may go without polling before losing the place.
    public var idleTimeout: Int
    /// Unix time in milliseconds at which the room opens; those who join before are drawn by lottery.
    public var opensAt: Int64?
    /// Where admitted visitors are sent (their pass goes in a cookie).
    public var targetURL: String?
    /// Leading zero bits of SHA-256 that a new join's proof of work must reach (1–24); nil or 0: none.
    public var proofOfWork: Int?
    /// When set, the gateway moves `releaseRate` by the health of the upstream the room guards.
    public var adaptive: AdaptiveRelease?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, releaseRate = "release_rate", maxActive = "max_active", passTTL = "pass_ttl"
        case idleTimeout = "idle_timeout", opensAt = "opens_at", targetURL = "target_url", proofOfWork = "proof_of_work", adaptive
    }

    public init(
        mode: RoomMode = .queue,
        releaseRate: Double = 10,
        maxActive: Int = 0,
        passTTL: Int = 300,
        idleTimeout: Int = 60,
        opensAt: Int64? = nil,
        targetURL: String? = nil,
        proofOfWork: Int? = nil,
        adaptive: AdaptiveRelease? = nil
    ) {
        self.mode = mode
        self.releaseRate = releaseRate
        self.maxActive = maxActive
        self.passTTL = passTTL
        self.idleTimeout = idleTimeout
        self.opensAt = opensAt
        self.targetURL = targetURL
        self.proofOfWork = proofOfWork
        self.adaptive = adaptive
    }

    /// Decodes a full configuration (`PUT`): a field left out takes its default — mode `queue`,
    /// release_rate 10, max_active 0 (no cap), pass_ttl 300, idle_timeout 60, no opens_at,
    /// target_url, proof_of_work or adaptive release.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RoomConfiguration()
        self.init(
            mode: try container.decodeIfPresent(RoomMode.self, forKey: .mode) ?? defaults.mode,
            releaseRate: try container.decodeIfPresent(Double.self, forKey: .releaseRate) ?? defaults.releaseRate,
            maxActive: try container.decodeIfPresent(Int.self, forKey: .maxActive) ?? defaults.maxActive,
            passTTL: try container.decodeIfPresent(Int.self, forKey: .passTTL) ?? defaults.passTTL,
            idleTimeout: try container.decodeIfPresent(Int.self, forKey: .idleTimeout) ?? defaults.idleTimeout,
            opensAt: try container.decodeIfPresent(Int64.self, forKey: .opensAt),
            targetURL: try container.decodeIfPresent(String.self, forKey: .targetURL),
            proofOfWork: try container.decodeIfPresent(Int.self, forKey: .proofOfWork),
            adaptive: try container.decodeIfPresent(AdaptiveRelease.self, forKey: .adaptive)
        )
    }

    /// The `opens_at` a room takes (Unix ms, up to 9999-12-31): Redis keeps it as a Lua number,
    /// exact only up to 2^53, and 2^63 came back from a script as -2^63.
    public static let openingTimes: ClosedRange<Int64> = 0...253_402_300_799_999

    /// The slowest release a room takes besides none at all: one visitor every 1,000 s.
    public static let slowestRelease = 0.001

    /// Checks every field's range.
    public func validate() throws(QueueError) {
        guard releaseRate.isFinite, releaseRate == 0 || (Self.slowestRelease...100_000).contains(releaseRate) else {
            throw .invalidConfiguration(field: "release_rate", "release_rate must be 0 or between 0.001 and 100000 visitors per second")
        }
        guard (0...10_000_000).contains(maxActive) else { throw .invalidConfiguration(field: "max_active", "max_active must be between 0 and 10000000") }
        guard (10...86_400).contains(passTTL) else { throw .invalidConfiguration(field: "pass_ttl", "pass_ttl must be between 10 and 86400 seconds") }
        guard (5...86_400).contains(idleTimeout) else { throw .invalidConfiguration(field: "idle_timeout", "idle_timeout must be between 5 and 86400 seconds") }
        if let proofOfWork, !(0...24).contains(proofOfWork) { throw .invalidConfiguration(field: "proof_of_work", "proof_of_work must be between 0 and 24 bits") }
        if let opensAt, !Self.openingTimes.contains(opensAt) {
            throw .invalidConfiguration(field: "opens_at", "opens_at must be a Unix time in milliseconds before the year 10000")
        }
        if let targetURL, !Self.isRedirectTarget(targetURL) {
            throw .invalidConfiguration(field: "target_url", "target_url must be a path (not //host) or an http(s) URL of at most 2048 printable ASCII characters, without spaces or backslashes")
        }
        try adaptive?.validate()
    }

    /// Whether `url` can be the `Location` admitted visitors are sent to: a path on this site (but not
    /// `//host`, which a browser reads as another site) or an http(s) URL, in printable ASCII without
    /// spaces or a backslash (which browsers read as `/`), so it can never split the header it goes in.
    static func isRedirectTarget(_ url: String) -> Bool {
        guard url.utf8.count <= 2048, url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) else { return false }
        return (url.hasPrefix("/") && !url.hasPrefix("//")) || url.hasPrefix("https://") || url.hasPrefix("http://")
    }

    /// The fields as `HSET` arguments.
    var redisFields: [(String, any RedisArgument)] {
        [
            ("mode", mode.rawValue), ("release_rate", releaseRate), ("max_active", maxActive), ("pass_ttl", passTTL),
            ("idle_timeout", idleTimeout), ("opens_at", Int(opensAt ?? 0)), ("target_url", targetURL ?? ""),
            ("proof_of_work", proofOfWork ?? 0),
        ] + AdaptiveRelease.redisFields(adaptive).map { ($0.0, $0.1 as any RedisArgument) }
    }

    /// Reads the configuration from an `HGETALL` reply; nil when the room does not exist.
    init?(hash: [String: String]) {
        guard let modeText = hash["mode"], let mode = RoomMode(rawValue: modeText) else { return nil }
        self.init(
            mode: mode,
            releaseRate: hash["release_rate"].flatMap(Double.init) ?? 0,
            maxActive: hash["max_active"].flatMap { Int($0) } ?? 0,
            passTTL: hash["pass_ttl"].flatMap { Int($0) } ?? 300,
            idleTimeout: hash["idle_timeout"].flatMap { Int($0) } ?? 60,
            opensAt: hash["opens_at"].flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil },
            targetURL: hash["target_url"].flatMap { $0.isEmpty ? nil : $0 },
            proofOfWork: hash["proof_of_work"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil },
            adaptive: AdaptiveRelease(hash: hash)
        )
    }
}

/// A room's configuration with what happened at its opening.
public struct RoomDescription: Sendable, Codable, Hashable {
    public var event: String
    public var configuration: RoomConfiguration
    /// Whether `opens_at` has passed and the pre-queue is served ahead of the queue.
    public var opened: Bool
    /// Hex SHA-256 of the pre-queue's seed, published from the room's creation.
    public var seedCommitment: String?
    /// The pre-queue's seed, revealed once the room has opened: a pre-queue visitor's draw is the
    /// first 13 hex digits of SHA-1(`seed:visitor`) as a number, lowest first.
    public var seed: String?
    /// Places in the pre-queue when the room opened.
    public var prequeueSize: Int?

    enum CodingKeys: String, CodingKey {
        case event, configuration, opened, seed, seedCommitment = "seed_commitment", prequeueSize = "prequeue_size"
    }
}
