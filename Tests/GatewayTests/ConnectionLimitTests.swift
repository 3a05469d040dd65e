import Foundation
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing

@testable import Gateway

@Suite("Client connections held below the file-descriptor limit")
struct ConnectionLimitTests {
    @Test("places are taken and given back; none beyond the maximum")
    func admitAndRelease() {
        let limit = ConnectionLimit(maximum: 2)
        #expect(limit.admit() && limit.admit())
        #expect(!limit.admit(), "the third connection is refused")
        #expect(limit.current == 2)
        limit.release()
        #expect(limit.admit(), "a freed place is taken again")
    }

    @Test("by default the limit sits below the descriptor limit, raised to its hard limit")
    func belowDescriptors() {
        let descriptors = ConnectionLimit.raiseDescriptorLimit()
        let limit = ConnectionLimit.belowDescriptorLimit()
        #expect(limit.maximum > 0 && limit.maximum <= descriptors - 64)
    }

    @Test("upstream connections take descriptors only while clients and upstreams together leave the kept ones free")
    func upstreamBudget() {
        let limit = ConnectionLimit(maximum: 10, descriptors: ConnectionLimit.keptDescriptors + 6)
        #expect(limit.admit() && limit.admit())
        #expect((0..<4).allSatisfy { _ in limit.admitUpstream() }, "2 clients and 4 upstreams fill the 6 descriptors")
        #expect(!limit.admitUpstream(), "a fifth upstream connection would eat into the kept descriptors")
        #expect(limit.currentUpstreams == 4)
        limit.release()
        #expect(limit.admitUpstream(), "a client gone frees a descriptor for an upstream")
        limit.releaseUpstream()
        #expect(limit.currentUpstreams == 4)
    }

    @Test("running out of descriptors is told apart from an upstream refusing")
    func descriptorsExhausted() {
        #expect(DescriptorsExhausted.describes(DescriptorsExhausted()))
        #expect(DescriptorsExhausted.describes(IOError(errnoCode: EMFILE, reason: "socket")))
        #expect(DescriptorsExhausted.describes(IOError(errnoCode: ENFILE, reason: "socket")))
        #expect(!DescriptorsExhausted.describes(IOError(errnoCode: ECONNREFUSED, reason: "connect")))
        #expect(!DescriptorsExhausted.describes(ChannelError.connectTimeout(.seconds(2))))
    }

    /// Connects to `port`; the client channel and the promise of everything it receives until the server closes it.
    static func connect(_ port: Int) async throws -> (channel: any Channel, closed: EventLoopFuture<String>) {
        let collector = RawClient.Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: "127.0.0.1", port: port).get()
        return (channel, collector.closed.futureResult)
    }

    /// What became of a connection within `wait`: what it received before the server closed it,
    /// "reset", or "open" when it was neither answered nor closed.
    static func outcome(of closed: EventLoopFuture<String>, within wait: Duration) async throws -> String {
        try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask {
                do { return try await closed.get() } catch { return "reset" }
            }
            group.addTask {
                try await Task.sleep(for: wait)
                return "open"
            }
            let first = try await group.next() ?? "open"
            group.cancelAll()
            return first
        }
    }

    @Test("a connection over the limit is closed at once; the held ones are served, and a freed place serves a new one")
    func liveLimit() async throws {
        try await GatewayFixture.with(maxConnections: 3) { fixture in
            try await fixture.application.test(.live) { client in
                let port = try #require(client.port)
                #expect(try await client.execute(uri: "/health", method: .get).status == .ok, "the test client holds the first place")
                let first = try await Self.connect(port)
                let second = try await Self.connect(port)
                let over = try await Self.connect(port)
                let refused = try await Self.outcome(of: over.closed, within: .seconds(3))
                #expect(refused == "" || refused == "reset", "closed without an answer, not held open: \(refused)")
                try await second.channel.writeAndFlush(ByteBuffer(string: "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).get()
                #expect(try await second.closed.get().hasPrefix("HTTP/1.1 200"))

                var served = ""
                for _ in 0..<20 where !served.hasPrefix("HTTP/1.1 200") {
                    let next = try await Self.connect(port)
                    try? await next.channel.writeAndFlush(ByteBuffer(string: "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).get()
                    served = (try? await next.closed.get()) ?? ""
                    if served.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(served.hasPrefix("HTTP/1.1 200"), "the place the second connection gave back serves a new one")
                try await first.channel.close()
            }
        }
    }
}
