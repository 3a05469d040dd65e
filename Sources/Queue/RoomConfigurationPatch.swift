/// A partial room configuration (`PATCH`): only the fields sent change; a field left out or
/// sent as null keeps its value. `opens_at` 0, `proof_of_work` 0 and an empty `target_url`
/// clear those settings; any other value is checked as a `PUT` would check it. `adaptive`
/// replaces the adaptive settings whole, or switches adaptation off when null; a `release_rate`
/// sent without `adaptive` is the operator taking the rate back: adaptation goes off.
public struct RoomConfigurationPatch: Sendable, Decodable, Hashable {
    /// What a patch does to adaptive release.
    public enum AdaptiveChange: Sendable, Hashable {
        case off
        case on(AdaptiveRelease)
    }

    public var mode: RoomMode?
    public var releaseRate: Double?
    public var maxActive: Int?
    public var passTTL: Int?
    public var idleTimeout: Int?
    public var opensAt: Int64?
    public var targetURL: String?
    public var proofOfWork: Int?
    /// Nil: adaptation as it was (unless `releaseRate` is sent, which switches it off).
    public var adaptive: AdaptiveChange?

    typealias CodingKeys = RoomConfiguration.CodingKeys

    public init(
        mode: RoomMode? = nil, releaseRate: Double? = nil, maxActive: Int? = nil, passTTL: Int? = nil,
        idleTimeout: Int? = nil, opensAt: Int64? = nil, targetURL: String? = nil, proofOfWork: Int? = nil,
        adaptive: AdaptiveChange? = nil
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

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        var adaptive: AdaptiveChange?
        if container.contains(.adaptive) {
            adaptive = try container.decodeNil(forKey: .adaptive) ? .off : .on(try container.decode(AdaptiveRelease.self, forKey: .adaptive))
        }
        self.init(
            mode: try container.decodeIfPresent(RoomMode.self, forKey: .mode),
            releaseRate: try container.decodeIfPresent(Double.self, forKey: .releaseRate),
            maxActive: try container.decodeIfPresent(Int.self, forKey: .maxActive),
            passTTL: try container.decodeIfPresent(Int.self, forKey: .passTTL),
            idleTimeout: try container.decodeIfPresent(Int.self, forKey: .idleTimeout),
            opensAt: try container.decodeIfPresent(Int64.self, forKey: .opensAt),
            targetURL: try container.decodeIfPresent(String.self, forKey: .targetURL),
            proofOfWork: try container.decodeIfPresent(Int.self, forKey: .proofOfWork),
            adaptive: adaptive
        )
    }

    /// The change to adaptive release: as sent, or off when the rate is set by hand.
    var effectiveAdaptive: AdaptiveChange? {
        adaptive ?? (releaseRate != nil ? .off : nil)
    }

    /// `configuration` with the sent fields replaced.
    public func applied(to configuration: RoomConfiguration) -> RoomConfiguration {
        var changed = configuration
        if let mode { changed.mode = mode }
        if let releaseRate { changed.releaseRate = releaseRate }
        if let maxActive { changed.maxActive = maxActive }
        if let passTTL { changed.passTTL = passTTL }
        if let idleTimeout { changed.idleTimeout = idleTimeout }
        if let opensAt { changed.opensAt = opensAt == 0 ? nil : opensAt }
        if let targetURL { changed.targetURL = targetURL.isEmpty ? nil : targetURL }
        if let proofOfWork { changed.proofOfWork = proofOfWork == 0 ? nil : proofOfWork }
        switch effectiveAdaptive {
        case .off: changed.adaptive = nil
        case .on(let settings): changed.adaptive = settings
        case nil: break
        }
        return changed
    }
}
