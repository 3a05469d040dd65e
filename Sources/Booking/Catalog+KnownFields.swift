import ServiceKit

extension CatalogEvent: KnownFields {
    /// An event's fields as the admin API takes them, each zone's among them.
    public static let knownFields = fields(of: CodingKeys.self).union(fields(of: CatalogZone.CodingKeys.self, under: "zones.*."))
}

extension CatalogEventChange: KnownFields {
    /// The fields a change may carry.
    public static let knownFields = fields(of: CodingKeys.self)
}
