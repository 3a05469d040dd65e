import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import NIOPosix
import Queue
import Testing

@testable import Gateway

@Suite("The edge's own proxy core: keep-alive pools, round-robin, passive health, streaming, pipelining")
struct EdgeCoreTests {
    @Test("sequential requests share one keep-alive upstream connection")
    func keepAlive() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: ReverseProxyTests.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    var ports = Set<Int>()
                    for index in 0..<20 {
                        let response = try await client.execute(uri: "/api/echo/\(index)", method: .get)
                        #expect(response.status == .ok)
                        ports.insert(try #require(try ReverseProxyTests.echo(response).peerPort))
                    }
                    #expect(ports.count == 1, "one client connection on one event loop borrows one upstream connection: \(ports)")
                }
            }
        }
    }

    @Test("requests go round-robin over a route's upstreams; one refusing connections is skipped")
    func roundRobinAndPassiveHealth() async throws {
        try await UpstreamServer.with { first in
            try await UpstreamServer.with { second in
                let routes = RouteTable(routes: [
                    ProxyRoute(name: "both", prefix: "/api/echo", upstreams: [first.url, second.url]),
                    ProxyRoute(name: "half-dead", prefix: "/api/echo/half", upstreams: ["http://127.0.0.1:1", first.url]),
                ])
                try await GatewayFixture.with(routes: routes) { fixture in
                    try await fixture.application.test(.live) { client in
                        var answeredBy: [Int: Int] = [:]
                        for index in 0..<10 {
                            let response = try await client.execute(uri: "/api/echo/\(index)", method: .get)
                            answeredBy[try #require(try ReverseProxyTests.echo(response).upstreamPort), default: 0] += 1
                        }
                        #expect(answeredBy == [first.port: 5, second.port: 5])

                        let before = first.callCount
                        for index in 0..<10 {
                            let response = try await client.execute(uri: "/api/echo/half/\(index)", method: .get)
                            #expect(response.status == .ok, "the refused upstream is passed over, not answered as 502")
                        }
                        #expect(first.callCount - before == 10)
                    }
                }
            }
        }
    }

    @Test("a streamed response reaches the client as the upstream sends it")
    func streaming() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: RouteTable(routes: [ProxyRoute(name: "stream", prefix: "/api/stream", upstreams: [upstream.url])])) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let started = ContinuousClock.now
                    let (first, whole) = try await RawClient.firstAndAll(port: port, "GET /api/stream HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
                    #expect(first.contains("data: 1"))
                    #expect(!first.contains("data: 3"), "the first event arrived before the stream ended")
                    #expect(whole.contains("data: 3"))
                    #expect(ContinuousClock.now - started >= .milliseconds(550))
                }
            }
        }
    }

    @Test("pipelined requests answer in order, proxied and the gateway's own routes mixed; chunked bodies stream upstream")
    func pipelining() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: ReverseProxyTests.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let requests = "GET /api/echo/first HTTP/1.1\r\nHost: gw\r\n\r\n"
                        + "GET /health HTTP/1.1\r\nHost: gw\r\n\r\n"
                        + "POST /api/echo/chunked HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                        + "GET /api/echo/last HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"
                    let (_, raw) = try await RawClient.firstAndAll(port: port, requests)
                    let whole = raw.replacingOccurrences(of: "\\/", with: "/")
                    let first = try #require(whole.range(of: "/api/echo/first"))
                    let health = try #require(whole.range(of: "\"status\""))
                    let chunked = try #require(whole.range(of: "hello world"))
                    let last = try #require(whole.range(of: "/api/echo/last"))
                    #expect(first.lowerBound < health.lowerBound)
                    #expect(health.lowerBound < chunked.lowerBound)
                    #expect(chunked.lowerBound < last.lowerBound)
                    #expect(whole.components(separatedBy: "HTTP/1.1 200").count == 5)
                }
            }
        }
    }

    @Test("a local route runs the same chain, then the gateway answers it: joins limited per address")
    func localRoute() async throws {
        let name = "join-\(UUID().uuidString.prefix(8).lowercased())"
        let routes = RouteTable(routes: [
            ProxyRoute(name: name, prefix: "/api/v1/queue", upstreams: [], rateLimits: [RateLimitRule(name: "joins", key: "ip", limit: 3, period: 60)], local: true),
        ])
        try await GatewayFixture.with(routes: routes) { fixture in
            try await fixture.application.test(.live) { client in
                for remaining in [2, 1, 0] {
                    let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                    #expect(joined.status == .created, "each join without a ticket is a new visitor")
                    #expect(joined.json["position"] != nil, "the gateway's own route answered")
                    #expect(joined.headers[.rateLimit]?.contains(#""joins";r=\#(remaining);"#) == true)
                }
                let refused = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                #expect(refused.status == .tooManyRequests)
                #expect(refused.problem?.type == "https://booking-rush.dev/problems/rate-limited")
                #expect(refused.headers[.retryAfter] != nil)
                #expect(try await fixture.redis.send("ZCARD", QueueKeys(event: fixture.event, in: fixture.redis.keySpace).waiting).int == 3, "the refused join never reached the room")
            }
        }
    }

    @Test("a guarded route finds its event in the path, a header, the query or the JSON body, which must name it unambiguously")
    func passEventSources() throws {
        let headers = HTTPHeaders([("X-Event-Id", "from-header")])
        let body = ByteBuffer(string: #"{"event_id":"from-body"}"#)
        let uri = "/api/events/from-path/buy?x=1&event=from%2Dquery"
        #expect(try PassEventSource("path:2")?.event(uri: uri, headers: headers, body: nil) == "from-path")
        #expect(try PassEventSource("header:x-event-id")?.event(uri: uri, headers: headers, body: nil) == "from-header")
        #expect(try PassEventSource("query:event")?.event(uri: uri, headers: headers, body: nil) == "from-query")
        #expect(try PassEventSource("query:missing")?.event(uri: uri, headers: headers, body: nil) == nil)
        #expect(try PassEventSource("body:event_id")?.event(uri: uri, headers: headers, body: body) == "from-body")
        #expect(try PassEventSource("path:9")?.event(uri: uri, headers: headers, body: nil) == nil)
        let field = { (json: String) throws(AmbiguousEventSource) in try PassEventSource.field("event_id", of: ByteBuffer(string: json)) }
        #expect(try field(#"{"event_id":"a","x":{"event_id":"b"},"y":"\"event_id\""}"#) == "a", "nested and quoted names are not the key")
        #expect(try field(#"{"event_id":"a","event_id":"a"}"#) == "a", "twice with one value reads the same everywhere")
        #expect(try field(#"{"event_id":7}"#) == "7")
        #expect(try field(#"[1]"#) == nil)
        for twice in [#"{"event_id":"queued","zone_id":"z","event_id":"no-room"}"#, #"{"event_id":"queued","event\u005fid":"no-room"}"#, #"{"event_id":1,"event_id":2}"#] {
            #expect(throws: AmbiguousEventSource(place: .body("event_id")), "\(twice)") { try field(twice) }
        }
        let twoHeaders = HTTPHeaders([("X-Event-Id", "queued"), ("x-event-id", "no-room")])
        #expect(throws: AmbiguousEventSource(place: .header("x-event-id"))) { try PassEventSource("header:x-event-id")?.event(uri: uri, headers: twoHeaders, body: nil) }
        #expect(try PassEventSource("header:x-event-id")?.event(uri: uri, headers: HTTPHeaders([("X-Event-Id", "a"), ("X-Event-Id", "a")]), body: nil) == "a")
        #expect(throws: AmbiguousEventSource(place: .query("event"))) { try PassEventSource("query:event")?.event(uri: "/x?event=queued&event=no-room", headers: [:], body: nil) }
        for (path, expected) in [("/a/b/c", ["a", "b", "c", nil]), ("//a//b/", ["a", "b", nil]), ("/", [nil]), ("", [nil]), ("a/b", ["a", "b", nil])] {
            let found = expected.indices.map { PassEventSource.segment($0, of: path[...]) }
            #expect(found == expected, "\(path): the segments split(separator: \"/\") finds")
        }
    }

    @Test("a local route cannot name upstreams or idempotency keys")
    func localRouteValidation() {
        #expect(throws: GatewayConfigurationError.self) {
            try ProxyRoute(name: "x", prefix: "/x", upstreams: ["http://127.0.0.1:1"], local: true).validate()
        }
        #expect(throws: GatewayConfigurationError.self) {
            try ProxyRoute(name: "x", prefix: "/x", upstreams: [], idempotency: .optional, local: true).validate()
        }
        #expect(throws: Never.self) { try ProxyRoute(name: "x", prefix: "/x", upstreams: [], local: true).validate() }
    }

    @Test("HEAD is proxied without a body and the connection stays in step")
    func head() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: ReverseProxyTests.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let response = try await client.execute(uri: "/api/echo/x", method: .head)
                    #expect(response.status == .ok)
                    #expect(response.body.readableBytes == 0)
                    let after = try await client.execute(uri: "/api/echo/y", method: .get)
                    #expect(try ReverseProxyTests.echo(after).path == "/api/echo/y", "the connection is still in step after a HEAD")
                }
            }
        }
    }
}

/// A bare TCP client: writes bytes, returns what came back first and everything until the server closes.
enum RawClient {
    static func firstAndAll(port: Int, _ request: String) async throws -> (first: String, all: String) {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        let all = try await collector.closed.futureResult.get()
        return (collector.firstRead ?? "", all)
    }

    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let closed = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: String.self)
        var received = ""
        var firstRead: String?

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += String(buffer: unwrapInboundIn(data))
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if firstRead == nil, received.contains("data:") { firstRead = received }
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed.succeed(received)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            closed.fail(error)
            context.close(promise: nil)
        }
    }
}
