import NIOCore
import ServiceTestSupport
import Testing

@testable import Gateway

@Suite("A route's max_connections bounds the requests each gateway has in hand to each upstream")
struct SlotsTests {
    /// What the gateway answers to `count` POSTs to `/api/events/eN/buy` sent at once, each on a
    /// connection of its own, sorted.
    static func answersAtOnce(port: Int, count: Int) async throws -> [String] {
        try await withThrowingTaskGroup(of: String.self) { group in
            for number in 0..<count {
                group.addTask {
                    try await RawConnection.exchange(
                        port: port, "POST /api/events/e\(number)/buy HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        limit: .seconds(10)
                    ) { _, _ in false }
                }
            }
            var answers: [String] = []
            for try await answer in group { answers.append(answer) }
            return answers.sorted()
        }
    }

    static func isBusy(_ answer: String) -> Bool {
        answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n") && answer.contains("upstream-busy") && answer.lowercased().contains("retry-after: 1\r\n")
    }

    @Test("slots are taken up to the maximum and given back")
    func slots() {
        let slots = Slots(maximum: 2)
        #expect(slots.take() && slots.take())
        #expect(!slots.take(), "a third is refused")
        #expect(slots.current == 2)
        slots.give()
        #expect(slots.take(), "a slot given back is taken again")
    }

    /// Runs `body` with the port of a live gateway whose route `/api/events` goes to `upstreams`,
    /// each bounded at `maxConnections`.
    static func withGateway(upstreams: [String], maxConnections: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let routes = RouteTable(routes: [ProxyRoute(name: "buy", prefix: "/api/events", upstreams: upstreams, maxConnections: maxConnections)])
        try await GatewayFixture.with(routes: routes) { fixture in
            try await fixture.application.test(.live) { client in try await body(try #require(client.port)) }
        }
    }

    @Test("beyond max_connections a request is 503 upstream-busy at once, the upstream never called; a slot given back serves the next")
    func busy() async throws {
        try await UpstreamServer.with(delay: .milliseconds(800)) { upstream in
            try await Self.withGateway(upstreams: [upstream.url], maxConnections: 2) { port in
                let answers = try await Self.answersAtOnce(port: port, count: 5)
                #expect(answers.filter { $0.hasPrefix("HTTP/1.1 201") }.count == 2, "\(answers)")
                #expect(answers.filter(Self.isBusy).count == 3, "\(answers)")
                #expect(upstream.callCount == 2, "the busy ones never reached the upstream")
                let after = try await Self.answersAtOnce(port: port, count: 2)
                #expect(after.allSatisfy { $0.hasPrefix("HTTP/1.1 201") }, "the slots came back: \(after)")
            }
        }
    }

    @Test("a request beyond one upstream's bound goes to the route's other upstream")
    func overflowToTheNextUpstream() async throws {
        try await UpstreamServer.with(delay: .milliseconds(800)) { first in
            try await UpstreamServer.with(delay: .milliseconds(800)) { second in
                try await Self.withGateway(upstreams: [first.url, second.url], maxConnections: 1) { port in
                    let answers = try await Self.answersAtOnce(port: port, count: 3)
                    #expect(answers.filter { $0.hasPrefix("HTTP/1.1 201") }.count == 2, "\(answers)")
                    #expect(answers.filter(Self.isBusy).count == 1, "\(answers)")
                    #expect(first.callCount == 1 && second.callCount == 1, "one each: \(first.callCount), \(second.callCount)")
                }
            }
        }
    }

    @Test("a connect that fails gives its slot back: an upstream that is down stays 502, never 503")
    func failedConnect() async throws {
        let routes = RouteTable(routes: [ProxyRoute(name: "down", prefix: "/api/events", upstreams: ["http://127.0.0.1:1"], maxConnections: 1)])
        try await GatewayFixture.with(routes: routes) { fixture in
            try await fixture.application.test(.live) { client in
                for _ in 0..<3 {
                    let response = try await client.execute(uri: "/api/events/e/buy", method: .post)
                    #expect(response.status == .badGateway)
                    #expect(response.problem?.type == "https://booking-rush.dev/problems/upstream-unreachable")
                }
            }
        }
    }

    @Test("max_connections is 1 to 100000, on proxied routes only")
    func validation() {
        #expect(throws: GatewayConfigurationError.self) { try ProxyRoute(name: "a", prefix: "/a", upstreams: ["http://u:1"], maxConnections: 0).validate() }
        #expect(throws: GatewayConfigurationError.self) { try ProxyRoute(name: "a", prefix: "/a", upstreams: ["http://u:1"], maxConnections: 100_001).validate() }
        #expect(throws: GatewayConfigurationError.self) { try ProxyRoute(name: "a", prefix: "/a", upstreams: [], maxConnections: 5, local: true).validate() }
        #expect(throws: Never.self) { try ProxyRoute(name: "a", prefix: "/a", upstreams: ["http://u:1"], maxConnections: 100_000).validate() }
    }
}
