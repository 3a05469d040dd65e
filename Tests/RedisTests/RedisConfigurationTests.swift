import Testing

@testable import Redis

@Suite("redis:// URLs")
struct RedisConfigurationTests {
    @Test func hostPortDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://cache.internal:6380/3")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 3)
        #expect(configuration.password == nil)
        #expect(configuration.username == nil)
    }

    @Test func passwordOnly() throws {
        let configuration = try RedisConfiguration(url: "redis://:s%40cret@127.0.0.1")
        #expect(configuration.password == "s@cret")
        #expect(configuration.username == nil)
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
    }

    @Test func userAndPassword() throws {
        let configuration = try RedisConfiguration(url: "redis://gateway:pw@[::1]:7000/1")
        #expect(configuration.username == "gateway")
        #expect(configuration.password == "pw")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 7000)
        #expect(configuration.database == 1)
    }

    @Test(arguments: [
        "http://127.0.0.1", "rediss://127.0.0.1", "redis://", "redis://host:0", "redis://host:99999",
        "redis://host:port", "redis://host/-1", "redis://host/db", "redis://:%zz@host",
    ])
    func refused(url: String) {
        #expect(throws: RedisConfigurationError.self) { try RedisConfiguration(url: url) }
    }
}
