import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceKit
import ServiceTestSupport
import Testing

@testable import Gateway

@Suite("Via on forwarded requests; a request that comes back to its gateway is a 508")
struct ProxyViaTests {
    @Test("the entry names the instance in characters Via can carry; only this gateway's own entry is a loop")
    func entry() {
        let via = ProxyVia(instanceName: "gw a,b(1)")
        #expect(via.receivedBy == "gw-a-b-1-" && via.value == "1.1 gw-a-b-1-")
        #expect(ProxyVia(instanceName: "host-1:8080").value == "1.1 host-1:8080")
        #expect(ProxyVia(instanceName: "").receivedBy == "booking-rush")
        #expect(!via.isLoop(HTTPHeaders()))
        #expect(via.isLoop(HTTPHeaders([("Via", "1.0 cdn, 1.1 gw-a-b-1- (booking-rush)")])))
        #expect(via.isLoop(HTTPHeaders([("via", "1.0 cdn"), ("VIA", "HTTP/1.1 gw-a-b-1-")])))
        #expect(!via.isLoop(HTTPHeaders([("Via", "1.1 gw-a-b-1-x, 1.1 other")])), "another gateway's name")
        #expect(!via.isLoop(HTTPHeaders([("Via", "gw-a-b-1-")])), "a name alone is no entry")
    }

    @Test("the upstream sees the client's Via entries, then this gateway's; a request naming it already is refused")
    func forwardedAndRefused() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: ReverseProxyTests.routes(upstream.url)) { fixture in
                let via = ProxyVia(instanceName: fixture.configuration.instanceName)
                try await fixture.application.test(.live) { client in
                    let plain = try ReverseProxyTests.echo(try await client.execute(uri: "/api/echo/x", method: .get))
                    #expect(plain.headers["via"] == via.value)
                    let relayed = try await client.execute(uri: "/api/echo/x", method: .get, headers: [HTTPField.Name("Via")!: "1.1 cdn.example"])
                    #expect(try ReverseProxyTests.echo(relayed).headers["via"] == "1.1 cdn.example, \(via.value)")
                    #expect(upstream.callCount == 2)

                    let looped = try await client.execute(uri: "/api/echo/x", method: .post, headers: [HTTPField.Name("Via")!: "1.0 cdn, \(via.value)"])
                    #expect(looped.status.code == 508)
                    #expect(looped.problem?.type == ProblemDetails.typeBase + "proxy-loop")
                    #expect(upstream.callCount == 2, "never forwarded")
                    #expect(try await client.execute(uri: "/api/echo/y", method: .get).status == .ok, "the connection goes on")
                }
            }
        }
    }

    @Test("a route whose upstream is the gateway itself answers 508 at the second pass, not a flood of connections")
    func realLoop() async throws {
        let port = try await Self.freePort()
        let routes = RouteTable(routes: [ProxyRoute(name: "self", prefix: "/api/self", upstreams: ["http://127.0.0.1:\(port)"])])
        try await GatewayFixture.with(routes: routes) { fixture in
            let (started, running) = AsyncStream.makeStream(of: Int.self)
            let application = Application(
                router: buildGatewayRouter(fixture.components), server: gatewayServer(fixture.components),
                configuration: .init(address: .hostname("127.0.0.1", port: port)),
                onServerRunning: { channel in running.yield(channel.localAddress?.port ?? 0) },
                logger: Logger(label: "loop-test")
            )
            let server = Task { try await application.runService(gracefulShutdownSignals: []) }
            defer { server.cancel() }
            for await bound in started { try #require(bound == port); break }
            let text = try await RawConnection.exchange(port: port, "GET /api/self/x HTTP/1.1\r\nHost: gw\r\n\r\n", limit: .seconds(10)) { received, _ in
                received.hasSuffix("}")
            }
            #expect(text.hasPrefix("HTTP/1.1 508 Loop Detected\r\n"), "\(text)")
            #expect(text.contains("proxy-loop"), "\(text)")
            server.cancel()
            _ = try? await server.value
        }
    }

    /// A loopback port nothing listens on (bound, then closed).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        return port
    }
}
