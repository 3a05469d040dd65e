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
