/// A partial room configuration (`PATCH`): only the fields sent change; a field left out or
/// sent as null keeps its value. `opens_at` 0, `proof_of_work` 0 and an empty `target_url`
/// clear those settings; any other value is checked as a `PUT` would check it.
public struct RoomConfigurationPatch: Sendable, Decodable, Hashable {
    public var mode: RoomMode?
    public var releaseRate: Double?
    public var maxActive: Int?
    public var passTTL: Int?
    public var idleTimeout: Int?
    public var opensAt: Int64?
    public var targetURL: String?
    public var proofOfWork: Int?

    typealias CodingKeys = RoomConfiguration.CodingKeys

    public init(
        mode: RoomMode? = nil, releaseRate: Double? = nil, maxActive: Int? = nil, passTTL: Int? = nil,
        idleTimeout: Int? = nil, opensAt: Int64? = nil, targetURL: String? = nil, proofOfWork: Int? = nil
    ) {
        self.mode = mode
        self.releaseRate = releaseRate
        self.maxActive = maxActive
        self.passTTL = passTTL
        self.idleTimeout = idleTimeout
        self.opensAt = opensAt
        self.targetURL = targetURL
        self.proofOfWork = proofOfWork
    }

    /// The names (as stored in Redis) of the settings this patch sends.
    var sentFields: Set<String> {
        var sent: Set<String> = []
        if mode != nil { sent.insert("mode") }
        if releaseRate != nil { sent.insert("release_rate") }
        if maxActive != nil { sent.insert("max_active") }
        if passTTL != nil { sent.insert("pass_ttl") }
        if idleTimeout != nil { sent.insert("idle_timeout") }
        if opensAt != nil { sent.insert("opens_at") }
        if targetURL != nil { sent.insert("target_url") }
        if proofOfWork != nil { sent.insert("proof_of_work") }
        return sent
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
        return changed
    }
}
