import ArgumentParser
import Foundation
import Redis

/// `rush-load tokens`: access tokens for many test users, signed with the gateway fleet's key
/// ring in Redis, one per line, so a load test needs no password logins.
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Print access tokens for users PREFIX0…PREFIX(N-1), signed with the gateway's keys in Redis."
    )

    @Option(help: "Redis URL") var url = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:16379/0"
    @Option(help: "How many users") var count = 1_000
    @Option(help: "User id prefix") var prefix = "load-user-"
    @Option(help: "Roles, comma-separated") var roles = "customer"
    @Option(help: "Issuer (the gateway's PASS_ISSUER)") var issuer = ProcessInfo.processInfo.environment["PASS_ISSUER"] ?? "booking-rush"
    @Option(help: "The gateway's Redis key space (its REDIS_KEY_SPACE; bk when empty)")
    var keySpace = ProcessInfo.processInfo.environment["REDIS_KEY_SPACE"] ?? ""

    func run() async throws {
        var configuration = try RedisConfiguration(url: url)
        if !keySpace.isEmpty {
            do {
                configuration.keySpace = try RedisKeySpace(keySpace)
            } catch {
                throw ValidationError("--key-space: \(error)")
            }
        }
        let redis = RedisClient(configuration: configuration)
        let minter = try await AccessTokenMinter(redis: redis, issuer: issuer)
        let roleList = roles.split(separator: ",").map(String.init)
        var output = ""
        for index in 0..<count {
            output += try await minter.token(for: "\(prefix)\(index)", roles: roleList) + "\n"
        }
        print(output, terminator: "")
        await redis.shutdown()
    }
}
