import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
@testable import Queue
import ServiceKit
import ServiceTestSupport
import Testing

@Suite("Live streams served at the edge")
struct EdgeQueueStreamTests {
    static func head(_ event: String, _ fields: [(String, String)], method: HTTPMethod = .GET, version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: "/api/v1/queue/\(event)/events?x=1", headers: HTTPHeaders([("Host", "gateway")] + fields))
    }

    /// A raw request for the stream of a visitor holding `ticket` and `place`.
    static func streamRequest(_ event: String, ticket: String, place: String) -> String {
        "GET /api/v1/queue/\(event)/events HTTP/1.1\r\nHost: gateway\r\nCookie: br_visitor=\(ticket); br_place_\(event)=\(place)\r\n\r\n"
    }

    @Test("the edge takes the streams of a genuine ticket with its place token, by field or cookie; the router the rest")
    func whichStreamsTheEdgeServes() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            let visitors = try await EdgeStatusPollTests.join(2, fixture: fixture)
            let event = fixture.event
            let streams = EdgeQueueStreams(queue: QueueHTTP(components: fixture.components), tokens: VerifiedTokenCache(tickets: fixture.tickets))
            let first = try #require(fixture.tickets.visitor(from: visitors[0].ticket))

            let byFields = try #require(streams.request(Self.head(event, [("Visitor-Ticket", visitors[0].ticket), ("Queue-Place", visitors[0].place)])))
            #expect(byFields.event == event && byFields.visitor == first)
            let byCookie = streams.request(Self.head(event, [("Cookie", "a=b; br_visitor=\(visitors[0].ticket); br_place_\(event)=\(visitors[0].place)")]))
            #expect(byCookie?.visitor == first && byCookie?.spot == byFields.spot)

            #expect(streams.request(Self.head(event, [("Visitor-Ticket", visitors[0].ticket)])) == nil, "no place token: Redis places them")
            #expect(streams.request(Self.head(event, [("Visitor-Ticket", visitors[0].ticket), ("Queue-Place", visitors[1].place)])) == nil, "another visitor's place")
            #expect(streams.request(Self.head(event, [("Visitor-Ticket", visitors[0].ticket + "x"), ("Queue-Place", visitors[0].place)])) == nil)
            let genuine = [("Visitor-Ticket", visitors[0].ticket), ("Queue-Place", visitors[0].place)]
            #expect(streams.request(Self.head(event, genuine + [("Authorization", "Bearer x")])) == nil, "a user's stream")
            #expect(streams.request(Self.head(event, genuine, method: .POST)) == nil)
            #expect(streams.request(Self.head(event, genuine, version: .http1_0)) == nil, "no chunked body for HTTP/1.0")
            #expect(streams.request(Self.head("other-room", genuine)) == nil, "a place token is for one room")
        }
    }

    @Test("status while waiting, then admitted with a genuine pass and the last chunk; the connection then serves its next request")
    func statusThenAdmittedThenNextRequest() async throws {
        let paused = RoomConfiguration(mode: .paused, releaseRate: 0.01, idleTimeout: 3600)
        try await GatewayFixture.with(paused) { fixture in
            let visitors = try await EdgeStatusPollTests.join(2, fixture: fixture)
            try await fixture.applicationRefreshingSnapshots.test(.live) { client in
                let port = try #require(client.port)
                let request = Self.streamRequest(fixture.event, ticket: visitors[1].ticket, place: visitors[1].place)
                let text = try await RawConnection.exchange(port: port, request + "GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n") { received, _ in
                    if received.contains("event: status") && !received.contains("event: admitted") {
                        var opened = paused
                        opened.mode = .queue
                        opened.releaseRate = 100
                        try await fixture.room.configure(event: fixture.event, opened)
                        try await fixture.release(atLeast: 2)
                    }
                    return received.contains("event: admitted") && received.components(separatedBy: "HTTP/1.1 200").count == 3
                }
                let (streamPart, healthPart) = try #require(Self.split(text, at: "0\r\n\r\n"))
                #expect(streamPart.hasPrefix("HTTP/1.1 200 OK\r\n"))
                #expect(streamPart.lowercased().contains("content-type: text/event-stream\r\n"))
                #expect(streamPart.lowercased().contains("transfer-encoding: chunked\r\n"))
                #expect(streamPart.lowercased().contains("x-request-id: "))
                let events = Self.events(in: streamPart)
                #expect(events.first?.name == "status" && events.first?.json["position"] as? Int == 2, "\(events)")
                #expect(events.last?.name == "admitted")
                let pass = try #require(events.last?.json["pass"] as? String)
                #expect(try await fixture.keys.verify(pass, event: fixture.event).event == fixture.event)
                #expect(healthPart.hasPrefix("HTTP/1.1 200 OK\r\n"), "the next request is answered after the stream: \(healthPart)")
            }
        }
    }

    @Test("the page's event, query aside; other paths and invalid ids give none", arguments: [
        ("/waiting-room/sale-1", "sale-1"),
        ("/waiting-room/Sale_2.b?x=/waiting-room/y", "Sale_2.b"),
        ("/waiting-room/", nil),
        ("/waiting-room/a/b", nil),
        ("/waiting-room/sale%201", nil),
        ("/waiting-room/\(String(repeating: "e", count: 65))", nil),
        ("/waiting-roomx/sale-1", nil),
        ("/api/v1/queue/sale-1/events", nil),
    ] as [(String, String?)])
    func pageEvent(target: String, event: String?) {
        #expect(target.pageEvent == event)
    }

    @Test("a browser's way on one connection: the page from the edge sets the ticket and place cookies, and its stream follows at the edge")
    func pageThenStreamOnOneConnection() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 0, idleTimeout: 3600)) { fixture in
            _ = try await EdgeStatusPollTests.join(2, fixture: fixture)
            try await fixture.applicationRefreshingSnapshots.test(.live) { client in
                let port = try #require(client.port)
                let snapshots = fixture.components.snapshots
                var waiting = 0
                let text = try await RawConnection.exchange(port: port, "GET /waiting-room/\(fixture.event) HTTP/1.1\r\nHost: gateway\r\n\r\n") { received, outbound in
                    if received.contains("</html>") && !received.contains("text/event-stream") {
                        let cookies = received.components(separatedBy: "\r\n").filter { $0.lowercased().hasPrefix("set-cookie: ") }
                            .map { $0.dropFirst("set-cookie: ".count).prefix { $0 != ";" } }
                        try await outbound.write(ByteBuffer(string: "GET /api/v1/queue/\(fixture.event)/events HTTP/1.1\r\nHost: gateway\r\nCookie: \(cookies.joined(separator: "; "))\r\n\r\n"))
                    }
                    guard received.contains("event: status") else { return false }
                    for _ in 0..<100 where snapshots.waitingStreams(event: fixture.event) == 0 { try await Task.sleep(for: .milliseconds(20)) }
                    waiting = snapshots.waitingStreams(event: fixture.event)
                    return true
                }
                #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
                #expect(text.lowercased().contains("set-cookie: br_place_\(fixture.event)="))
                #expect(text.contains(#"<strong id="position">3</strong>"#))
                let stream = try #require(Self.split(text, at: "</html>")?.1)
                #expect(stream.lowercased().contains("content-type: text/event-stream"), "\(stream)")
                #expect(Self.events(in: stream).first?.json["position"] as? Int == 3, "\(stream)")
                #expect(waiting == 1, "the stream waits on the room's snapshot")
            }
        }
    }

    @Test("a client that goes away leaves no wait behind")
    func clientGoingAwayEndsTheWait() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 0, idleTimeout: 3600)) { fixture in
            let visitors = try await EdgeStatusPollTests.join(1, fixture: fixture)
            let snapshots = fixture.components.snapshots
            try await fixture.applicationRefreshingSnapshots.test(.live) { client in
                let port = try #require(client.port)
                var waitedWhileOpen = 0
                _ = try await RawConnection.exchange(port: port, Self.streamRequest(fixture.event, ticket: visitors[0].ticket, place: visitors[0].place)) { received, _ in
                    guard received.contains("event: status") else { return false }
                    for _ in 0..<100 where snapshots.waitingStreams(event: fixture.event) == 0 { try await Task.sleep(for: .milliseconds(20)) }
                    waitedWhileOpen = snapshots.waitingStreams(event: fixture.event)
                    return true
                }
                #expect(waitedWhileOpen == 1, "the stream waits on the room while open")
                for _ in 0..<100 where snapshots.waitingStreams(event: fixture.event) > 0 { try await Task.sleep(for: .milliseconds(20)) }
                #expect(snapshots.waitingStreams(event: fixture.event) == 0, "the closed stream's wait is gone")
            }
        }
    }

    @Test("a stream's connection closing lets its handler and stream go, though they hold each other, and ends its wait")
    func closingLetsTheStreamGo() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 0, idleTimeout: 3600)) { fixture in
            let visitors = try await EdgeStatusPollTests.join(1, fixture: fixture)
            let snapshots = fixture.components.snapshots
            _ = try await snapshots.snapshot(event: fixture.event)
            let channel = EmbeddedChannel()
            weak var released: EdgeHandler?
            do {
                let wire = SocketWire()
                let router = RouterAttachment(eventLoop: channel.eventLoop, logger: Logger(label: "test"))
                let handler = EdgeHandler(core: EdgeCore(components: fixture.components), wire: wire, router: router, idleTimeout: nil)
                released = handler
                try channel.pipeline.syncOperations.addHandlers([wire, handler])
            }
            let head = Self.head(fixture.event, [("Visitor-Ticket", visitors[0].ticket), ("Queue-Place", visitors[0].place)])
            try channel.writeInbound(HTTPServerRequestPart.head(head))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
            var written = ""
            while case .byteBuffer(let buffer) = try channel.readOutbound(as: IOData.self) { written += String(buffer: buffer) }
            #expect(written.hasPrefix("HTTP/1.1 200 OK\r\n") && written.contains("event: status"), "\(written)")
            #expect(snapshots.waitingStreams(event: fixture.event) == 1)
            #expect(released != nil)

            _ = try channel.finish()
            #expect(snapshots.waitingStreams(event: fixture.event) == 0, "the wait ends with the connection")
            #expect(released == nil, "the handler and its stream are freed with the connection")
        }
    }

    @Test("graceful shutdown ends a waiting stream at once with its last chunk")
    func shutdownEndsTheStream() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 0, idleTimeout: 3600)) { fixture in
            let visitors = try await EdgeStatusPollTests.join(1, fixture: fixture)
            let request = Self.streamRequest(fixture.event, ticket: visitors[0].ticket, place: visitors[0].place)
            let (text, ended) = try await RawConnection.heldThroughShutdown(of: fixture.applicationRefreshingSnapshots, request) {
                $0.contains("event: status")
            }
            #expect(text.hasSuffix("0\r\n\r\n"), "the body's last chunk, then the connection closes: \(text)")
            #expect(ended < .seconds(2), "the stream ended with the server, not at its 15 s heartbeat")
        }
    }

    @Test("a place token for a visitor the room no longer has: a problem answer, not a stream")
    func problemBeforeTheStream() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            let visitors = try await EdgeStatusPollTests.join(1, fixture: fixture)
            let visitor = try #require(fixture.tickets.visitor(from: visitors[0].ticket))
            #expect(try await fixture.room.leave(event: fixture.event, visitor: visitor))
            fixture.components.snapshots.departed(event: fixture.event, visitor: visitor)
            try await fixture.application.test(.live) { client in
                let port = try #require(client.port)
                let text = try await RawConnection.exchange(port: port, Self.streamRequest(fixture.event, ticket: visitors[0].ticket, place: visitors[0].place)) { received, _ in
                    received.contains("}")
                }
                #expect(text.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "\(text)")
                #expect(text.lowercased().contains("content-type: application/problem+json\r\n"))
                #expect(text.contains("https://booking-rush.dev/problems/not-in-queue"))
            }
        }
    }

    /// The text before and after the first `separator`.
    static func split(_ text: String, at separator: String) -> (String, String)? {
        guard let range = text.range(of: separator) else { return nil }
        return (String(text[..<range.lowerBound]), String(text[range.upperBound...]))
    }

    /// The events of a chunked event-stream response: each event's name and JSON data.
    static func events(in response: String) -> [(name: String, json: [String: Any])] {
        response.components(separatedBy: "event: ").dropFirst().compactMap { part in
            let lines = part.components(separatedBy: "\n")
            guard lines.count > 1, lines[1].hasPrefix("data: ") else { return nil }
            let json = (try? JSONSerialization.jsonObject(with: Data(lines[1].dropFirst("data: ".count).utf8))) as? [String: Any]
            return (lines[0], json ?? [:])
        }
    }
}
