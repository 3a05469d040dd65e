@testable import Gateway
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import Queue
import NIOConcurrencyHelpers
import ServiceTestSupport
import Testing

@Suite("The router's side of a connection, set up only when a request needs it")
struct RouterAttachmentTests {
    /// A connection as the gateway sets one up, on an embedded channel, and what its task gets.
    struct Connection {
        let channel: EmbeddedChannel
        let value: EdgeConnection
        /// What the router's future brought: nil while it waits, then whether it brought a channel.
        let settled = NIOLockedValueBox<Bool?>(nil)

        init(_ fixture: GatewayFixture) async throws {
            channel = EmbeddedChannel()
            let edge = EdgeChannel(responder: { _, _, _ in }, core: EdgeCore(components: fixture.components), idleTimeout: nil)
            value = try await edge.setup(channel: channel, logger: Logger(label: "test")).get()
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).get()
            value.router.whenComplete { [settled] result in
                settled.withLockedValue { $0 = (try? result.get()) != nil }
            }
        }

        var hasRouterHandlers: Bool {
            (try? channel.pipeline.syncOperations.handler(type: HTTPConnectionStateHandler.self)) != nil
        }

        /// Writes `request` and returns what the connection wrote back.
        func exchange(_ request: String) throws -> String {
            try channel.writeInbound(ByteBuffer(string: request))
            var written = ""
            while case .byteBuffer(let buffer) = try channel.readOutbound(as: IOData.self) { written += String(buffer: buffer) }
            return written
        }
    }

    @Test("requests the edge answers leave the router out; the first one for the router brings it in, once")
    func attachedForTheRouter() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 0)) { fixture in
            let connection = try await Connection(fixture)
            for _ in 0..<2 {
                let answer = try connection.exchange("GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n")
                #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(answer)")
            }
            #expect(!connection.hasRouterHandlers)
            #expect(connection.settled.withLockedValue { $0 } == nil, "the connection's task still waits")
            let unrouted = fixture.components.edgeConnections
            #expect(unrouted.count(on: connection.channel.eventLoop) == 1, "filed to be closed if the server is cancelled")

            _ = try connection.exchange("GET /admin/v1/rooms HTTP/1.1\r\nHost: gateway\r\n\r\n")
            #expect(connection.hasRouterHandlers)
            #expect(connection.settled.withLockedValue { $0 } == true, "the task got the router's channel")
            #expect(unrouted.count(on: connection.channel.eventLoop) == 0, "the router's handling answers for it now")
            _ = try connection.channel.finish(acceptAlreadyClosed: true)
        }
    }

    @Test("a connection that ends without the router lets its task end")
    func detachedOnClose() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 0)) { fixture in
            let connection = try await Connection(fixture)
            _ = try connection.exchange("GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n")
            #expect(fixture.components.edgeConnections.count(on: connection.channel.eventLoop) == 1)
            _ = try connection.channel.finish(acceptAlreadyClosed: true)
            #expect(fixture.components.edgeConnections.count(on: connection.channel.eventLoop) == 0)
            #expect(connection.settled.withLockedValue { $0 } == false)
            #expect(try await connection.value.router.get() == nil)
        }
    }

    @Test("bytes that do not parse between requests are refused with a problem (400, or 431 for a head over the limit), and the connection closes", arguments: [
        ("NOT HTTP AT ALL\r\n\r\n", "400 Bad Request", "malformed-request"),
        ("GET /health HTTP/1.1\r\nHost: gateway\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n", "431 Request Header Fields Too Large", "head-too-large"),
    ])
    func unparsableRequest(bytes: String, status: String, problem: String) async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 0)) { fixture in
            try await fixture.application.test(.live) { client in
                let port = try #require(client.port)
                let sent = ContinuousClock.now
                let text = try await RawConnection.exchange(port: port, "GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n" + bytes, limit: .seconds(5)) { _, _ in false }
                #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "the edge answered the first request: \(text)")
                let refusal = try #require(text.range(of: "HTTP/1.1 \(status)\r\n").map { String(text[$0.lowerBound...]) }, "\(text)")
                #expect(refusal.lowercased().contains("content-type: application/problem+json\r\n"), "\(refusal)")
                #expect(refusal.contains("/problems/\(problem)\""), "\(refusal)")
                #expect(ContinuousClock.now - sent < .seconds(3), "closed after the refusal")
            }
        }
    }

    @Test("bytes that do not parse behind a proxied request in flight: its answer is relayed whole, then the connection closes")
    func unparsableBehindAProxiedRequest() async throws {
        try await UpstreamServer.with(delay: .milliseconds(300)) { upstream in
            try await GatewayFixture.with(routes: RouteTable(routes: [ProxyRoute(name: "buy", prefix: "/api/events", upstreams: [upstream.url])])) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let request = "POST /api/events/e1/buy HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\r\nNOT HTTP AT ALL\r\n\r\n"
                    let sent = ContinuousClock.now
                    let text = try await RawConnection.exchange(port: port, request, limit: .seconds(5)) { _, _ in false }
                    #expect(text.hasPrefix("HTTP/1.1 201 Created\r\n") && text.contains(#""bought":"e1""#), "the upstream's answer: \(text)")
                    #expect(upstream.callCount == 1)
                    #expect(ContinuousClock.now - sent < .seconds(3), "closed after the answer, not held to the client's limit")
                }
            }
        }
    }

    @Test("nothing pipelined behind a request that closes the connection (Connection: close) reaches the upstream")
    func nothingServedAfterClose() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: RouteTable(routes: [ProxyRoute(name: "buy", prefix: "/api/events", upstreams: [upstream.url])])) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let buy = { (event: String, close: Bool) in
                        "POST /api/events/\(event)/buy HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n"
                    }
                    let text = try await RawConnection.exchange(port: port, buy("e1", true) + buy("e2", false), limit: .seconds(5)) { _, _ in false }
                    #expect(text.hasPrefix("HTTP/1.1 201 Created\r\n") && !text.contains(#""bought":"e2""#), "\(text)")
                    try await Task.sleep(for: .milliseconds(200))
                    #expect(upstream.callCount == 1, "the request behind the closing one is not served")
                }
            }
        }
    }

    @Test("graceful shutdown closes an idle connection the edge served, at once")
    func shutdownClosesIdleEdgeConnections() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 0)) { fixture in
            let (text, closed) = try await RawConnection.heldThroughShutdown(of: fixture.application, "GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n") {
                $0.contains("\r\n\r\n")
            }
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
            #expect(closed < .seconds(2), "closed by the server's shutdown, not at the 20 s limit")
        }
    }

    @Test("a client that sends its requests and closes its side gets every answer in order, a proxied stream whole, then the connection closes", arguments: [
        ["/api/stream"], ["/no-such-page", "/api/stream"], ["/api/stream", "/no-such-page"],
    ])
    func halfClosedClient(paths: [String]) async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: RouteTable(routes: [ProxyRoute(name: "stream", prefix: "/api/stream", upstreams: [upstream.url])])) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let received = try await RawConnection.halfClosed(port: port, paths.map { "GET \($0) HTTP/1.1\r\nHost: gw\r\n\r\n" }.joined())
                    let statuses = received.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
                    #expect(statuses == paths.map { $0 == "/api/stream" ? "200" : "404" }, "\(received)")
                    #expect(received.contains("data: 3\n\n\r\n0\r\n\r\n"), "the whole stream: \(received)")
                }
            }
        }
    }

    @Test("a server stopped by cancellation closes a connection the edge still serves (a proxied stream that goes on)")
    func cancellationClosesEdgeConnections() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: RouteTable(routes: [ProxyRoute(name: "endless", prefix: "/api/endless", upstreams: [upstream.url])])) { fixture in
                let (ports, running) = AsyncStream.makeStream(of: Int.self)
                let application = Application(
                    router: buildGatewayRouter(fixture.components), server: gatewayServer(fixture.components),
                    configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    services: [EdgeConnectionsCloser(connections: fixture.components.edgeConnections)],
                    onServerRunning: { channel in running.yield(channel.localAddress?.port ?? 0) }
                )
                let server = Task { try await application.runService(gracefulShutdownSignals: []) }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                let streaming = AsyncStream<Void>.makeStream()
                let held = Task {
                    let text = try await RawConnection.exchange(port: port, "GET /api/endless HTTP/1.1\r\nHost: gw\r\n\r\n") { received, _ in
                        if received.contains("data: 1") { streaming.continuation.yield() }
                        return false
                    }
                    return (text, ContinuousClock.now)
                }
                for await _ in streaming.stream { break }
                let cancelled = ContinuousClock.now
                server.cancel()
                let (text, closed) = try await held.value
                _ = try? await server.value
                #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
                #expect(closed - cancelled < .seconds(5), "closed as the server was cancelled, not at the 20 s limit")
            }
        }
    }
}
