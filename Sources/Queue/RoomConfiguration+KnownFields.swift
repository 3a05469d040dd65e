import ServiceKit

extension RoomConfiguration: KnownFields {
    /// A room's fields as a `PUT` body takes them, `adaptive`'s among them.
    public static let knownFields = fields(of: CodingKeys.self).union(fields(of: AdaptiveRelease.CodingKeys.self, under: "adaptive."))
}

extension RoomConfigurationPatch: KnownFields {
    /// The fields a `PATCH` may change: those of a `PUT`.
    public static let knownFields = RoomConfiguration.knownFields
}
