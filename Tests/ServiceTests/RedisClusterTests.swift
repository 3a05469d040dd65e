import Booking
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Queue
import Redis
import Testing

/// Three Redis masters started for the test (`redis-server --cluster-enabled yes`, joined with
/// `redis-cli --cluster create`), on free ports in a temporary folder.
final class LocalRedisCluster {
    let ports: [Int]
    let folder: URL
    private var processes: [Process] = []

    init() throws {
        folder = FileManager.default.temporaryDirectory.appending(path: "rush-cluster-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var chosen: [Int] = []
        while chosen.count < 3 {
            let port = Int.random(in: 20_000..<29_000)
            if !chosen.contains(port), Self.isFree(port), Self.isFree(port + 10_000) { chosen.append(port) }
        }
        ports = chosen
        for port in ports {
            let directory = folder.appending(path: "\(port)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            process.arguments = [
                "--port", "\(port)", "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--dir", directory.path(), "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
            ]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            processes.append(process)
        }
        try Self.wait { self.ports.allSatisfy { (try? Self.cli($0, "PING")) == "PONG" } }
        _ = try Self.run("/usr/bin/redis-cli", ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "0", "--cluster-yes"])
        try Self.wait { self.ports.allSatisfy { (try? Self.cli($0, "CLUSTER", "INFO"))?.contains("cluster_state:ok") == true } }
    }

    /// Whether nothing listens on `port` (the cluster bus needs `port + 10000` too).
    static func isFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    func stop() {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(at: folder)
    }

    /// `redis-cli -p PORT ARGUMENTS`, trimmed.
    static func cli(_ port: Int, _ arguments: String...) throws -> String {
        try run("/usr/bin/redis-cli", ["-p", "\(port)"] + arguments).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func wait(_ condition: () -> Bool) throws {
        for _ in 0..<200 {
            if condition() { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        struct Timeout: Error {}
        throw Timeout()
    }

    /// `port → node id`, and the port serving `slot`.
    func nodes() throws -> [Int: String] {
        var ids: [Int: String] = [:]
        for line in try Self.cli(ports[0], "CLUSTER", "NODES").split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 1, let port = Int(fields[1].split(separator: "@")[0].split(separator: ":").last ?? "") { ids[port] = String(fields[0]) }
        }
        return ids
    }

    func owner(of slot: Int) throws -> Int {
        for line in try Self.cli(ports[0], "CLUSTER", "NODES").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 8, let port = Int(fields[1].split(separator: "@")[0].split(separator: ":").last ?? "") else { continue }
            for range in fields[8...] {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                if bounds.count == 2, (bounds[0]...bounds[1]).contains(slot) { return port }
                if bounds.count == 1, bounds[0] == slot { return port }
            }
        }
        struct NoOwner: Error {}
        throw NoOwner()
    }
}

@Suite("Redis Cluster: three masters, MOVED and ASK followed", .serialized)
struct RedisClusterTests {
    @Test("slots match Redis's own CRC16, hash tags included")
    func slots() throws {
        #expect(RedisClusterSlot.of(Array("foo".utf8)) == 12_182)
        #expect(RedisClusterSlot.of(Array("123456789".utf8)) == 12_739)
        #expect(RedisClusterSlot.of(Array("bk:{evt:demo}:room".utf8)) == RedisClusterSlot.of(Array("evt:demo".utf8)))
        #expect(RedisClusterSlot.of(Array("{}x".utf8)) == RedisClusterSlot.of(Array("{}x".utf8)))
    }

    @Test("keys spread over three masters; the waiting room and reservations run as on one Redis; ASK during a migration")
    func cluster() async throws {
        let cluster = try LocalRedisCluster()
        defer { cluster.stop() }
        let redis = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: cluster.ports[0]))
        do {
            for index in 0..<300 {
                try await redis.send("SET", "k:{tag-\(index)}", "v\(index)")
            }
            for index in 0..<300 {
                #expect(try await redis.send("GET", "k:{tag-\(index)}").string == "v\(index)")
            }
            for port in cluster.ports {
                #expect(Int(try LocalRedisCluster.cli(port, "DBSIZE")) ?? 0 > 50, "every master holds a share of the keys")
            }

            let room = WaitingRoom(redis: redis)
            let event = "cluster-\(UUID().uuidString.prefix(6).lowercased())"
            try await room.configure(event: event, RoomConfiguration(mode: .queue, releaseRate: 1_000))
            for visitor in 0..<20 { _ = try await room.join(event: event, visitor: "t:\(visitor)") }
            var admitted = 0
            for _ in 0..<50 where admitted < 20 {
                admitted += try await room.release(event: event).admitted
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(admitted == 20)
            if case .admitted = try await room.status(event: event, visitor: "t:7") {} else { Issue.record("visitor 7 was admitted") }

            let inventory = Inventory(redis: redis)
            try await inventory.configureSale(event: event, SaleSettings(maxSeatsPerUser: 4))
            try await inventory.createZone(event: event, zone: "a", capacity: 3, price: 100, currency: "EUR")
            _ = try await inventory.reserve(event: event, zone: "a", user: "u1", quantity: 2)
            await #expect(throws: BookingError.soldOut) { _ = try await inventory.reserve(event: event, zone: "a", user: "u2", quantity: 2) }
            #expect(try await inventory.zone(event: event, zone: "a").held == 2)

            // ASK: the slot of a new tag migrates from its owner to another master.
            let key = "{ask-\(UUID().uuidString.prefix(6))}:new"
            let slot = RedisClusterSlot.of(Array(key.utf8))
            let owner = try cluster.owner(of: slot)
            let target = cluster.ports.first { $0 != owner }!
            let ids = try cluster.nodes()
            #expect(try LocalRedisCluster.cli(target, "CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", ids[owner]!) == "OK")
            #expect(try LocalRedisCluster.cli(owner, "CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", ids[target]!) == "OK")
            #expect(try LocalRedisCluster.cli(owner, "SET", key, "x").hasPrefix("ASK \(slot) "), "the owner sends new keys of a migrating slot on")
            try await redis.send("SET", key, "asked")
            for port in [target, owner] { _ = try LocalRedisCluster.cli(port, "CLUSTER", "SETSLOT", "\(slot)", "NODE", ids[target]!) }
            #expect(try LocalRedisCluster.cli(target, "GET", key) == "asked", "the write went to the importing node")
            #expect(try await redis.send("GET", key).string == "asked", "after the migration, MOVED leads to it")
        } catch {
            await redis.shutdown()
            throw error
        }
        await redis.shutdown()
    }
}
