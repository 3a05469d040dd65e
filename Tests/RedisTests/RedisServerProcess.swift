import Foundation
import Redis
import Synchronization

/// A private `redis-server` for tests that must kill, restart or configure their own server.
final class RedisServerProcess: Sendable {
    let port: Int
    let directory: URL
    private let extraArguments: [String]
    private let process = Mutex<Process?>(nil)

    private init(port: Int, directory: URL, extraArguments: [String]) {
        self.port = port
        self.directory = directory
        self.extraArguments = extraArguments
    }

    /// Starts a server on a free loopback port, with `extraArguments` added to its command line.
    static func start(_ extraArguments: [String] = []) async throws -> RedisServerProcess {
        for _ in 0..<20 {
            // A directory per attempt: a server that failed to start removes its own when it goes.
            let directory = FileManager.default.temporaryDirectory.appending(path: "redis-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let server = RedisServerProcess(port: Int.random(in: 20_000...40_000), directory: directory, extraArguments: extraArguments)
            if try await server.launch() { return server }
        }
        throw RedisTestError("could not start redis-server on a free port")
    }

    var configuration: RedisConfiguration {
        RedisConfiguration(port: port, poolSize: 1, commandTimeout: .seconds(2), connectTimeout: .seconds(2))
    }

    /// Launches the server; false when it exited at once (port taken).
    @discardableResult
    func launch() async throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.redisServerPath())
        process.arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path(),
        ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process.withLock { $0 = process }
        for _ in 0..<100 {
            if !process.isRunning { return false }
            if Self.acceptsConnections(port: port) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    func kill() {
        process.withLock { process in
            guard let running = process else { return }
            Foundation.kill(running.processIdentifier, SIGKILL)
            running.waitUntilExit()
            process = nil
        }
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    private static func redisServerPath() -> String {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for path in paths + ["/usr/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: "\(path)/redis-server") {
            return "\(path)/redis-server"
        }
        return "/usr/bin/redis-server"
    }

    private static func acceptsConnections(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

struct RedisTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The shared Redis started by `scripts/services up` (`REDIS_URL`), with a key prefix per test.
enum SharedRedis {
    static func client(poolSize: Int = 2) throws -> RedisClient {
        let url = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:16379/0"
        var configuration = try RedisConfiguration(url: url)
        configuration.poolSize = poolSize
        return RedisClient(configuration: configuration)
    }

    static func prefix() -> String { "test:\(UUID().uuidString):" }
}
