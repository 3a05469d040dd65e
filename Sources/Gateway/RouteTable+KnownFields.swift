import ServiceKit

extension RouteTable: KnownFields {
    /// Every field a route table file may hold: a misspelt `rate_limits` would otherwise load as a
    /// route without its limits.
    public static let knownFields = fields(of: CodingKeys.self)
        .union(fields(of: ProxyRoute.CodingKeys.self, under: "routes.*."))
        .union(fields(of: RateLimitRule.CodingKeys.self, under: "routes.*.rate_limits.*."))
        .union(fields(of: QueuePassPolicy.CodingKeys.self, under: "routes.*.queue_pass."))
}
