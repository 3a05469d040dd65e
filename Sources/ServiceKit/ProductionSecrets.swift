/// The guard that keeps development secrets out of production: with `BOOKING_RUSH_ENV=production`
/// every secret a process uses must be set, and none may be its development default.
public enum ProductionSecrets {
    /// A secret a process reads from the environment, and the value it falls back to in development.
    public struct Secret: Sendable {
        public var name: String
        public var developmentValue: String

        public init(name: String, developmentValue: String) {
            self.name = name
            self.developmentValue = developmentValue
        }
    }

    /// Whether `environment` asks for production mode.
    public static func isProduction(_ environment: [String: String]) -> Bool {
        environment["BOOKING_RUSH_ENV"]?.lowercased() == "production"
    }

    /// The names of the secrets that are missing or left at their development value in
    /// production mode (none outside it). Values are never part of the answer.
    public static func problems(_ secrets: [Secret], environment: [String: String]) -> [String] {
        guard isProduction(environment) else { return [] }
        return secrets.compactMap { secret in
            guard let value = environment[secret.name], !value.isEmpty else { return "\(secret.name) is not set" }
            return value == secret.developmentValue ? "\(secret.name) is the development default" : nil
        }
    }
}
