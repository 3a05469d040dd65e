import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceKit
import ServiceTestSupport
import Synchronization
import Testing

@Suite("A connection with fast routes: requests read as NIO parses them, idle timeout, graceful shutdown and half-close")
struct FastRouteConnectionTests {
    static let logger = Logger(label: "fast-route-connection-test")

    /// `POST /echo` is a fast route answering its body (and the `X-Echo` field it read) after
    /// `delay`; `GET /router` is the router's.
    static func application(delay: TimeAmount = .zero, idleTimeout: TimeAmount = .seconds(75)) -> some ApplicationProtocol {
        let router = Router()
        router.get("/router") { _, _ in "from the router" }
        router.post("/router") { request, _ in "router read " + String(buffer: try await request.body.collect(upTo: 1 << 16)) }
        let echo = FastRoute(method: .post, path: "/echo") { request, eventLoop in
            var fields: HTTPFields = [.contentType: "text/plain"]
            if let echoed = request.head.headers.value(of: "x-echo") { fields[HTTPField.Name("X-Echoed")!] = echoed }
            let answer = FastAnswer.response(.ok, fields, request.body)
            guard delay > .zero else { return eventLoop.makeSucceededFuture(answer) }
            return eventLoop.scheduleTask(in: delay) { answer }.futureResult
        }
        return makeServiceApplication(
            router: router, fastRoutes: [echo], address: .init(port: 0), serverName: "fast-route-test", idleTimeout: idleTimeout, logger: logger
        )
    }

    static func echo(_ text: String, fields: String = "") -> String {
        "POST /echo?q=1 HTTP/1.1\r\nHost: test\r\n\(fields)Content-Length: \(text.utf8.count)\r\n\r\n\(text)"
    }

    static func answers(in text: String) -> Int {
        text.components(separatedBy: "HTTP/1.1 200 OK\r\n").count - 1
    }

    @Test("the fast route reads its fields as sent (any case, repeated ones joined); other requests reach the router")
    func fieldsAndRouter() async throws {
        try await Self.application().test(.live) { client in
            let port = try #require(client.port)
            let requests = Self.echo("one", fields: "x-ECHO: a\r\n") + Self.echo("two", fields: "X-Echo: b\r\nX-Echo: c\r\n")
                + "GET /router HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
            let text = try await RawConnection.exchange(port: port, requests) { _, _ in false }
            #expect(Self.answers(in: text) == 3, "\(text)")
            #expect(text.contains("X-Echoed: a\r\n") && text.contains("X-Echoed: b, c\r\n"), "\(text)")
            #expect(text.hasSuffix("from the router"), "\(text)")
        }
    }

    @Test("fast requests keep a connection open past its idle timeout; silence as long as the timeout closes it", .timeLimit(.minutes(1)))
    func idleTimeout() async throws {
        try await Self.application(idleTimeout: .seconds(1)).test(.live) { client in
            let port = try #require(client.port)
            let opened = ContinuousClock.now
            var sent = 1
            var lastAnswer = opened
            let text = try await RawConnection.exchange(port: port, Self.echo("r0")) { received, outbound in
                guard Self.answers(in: received) == sent else { return false }
                lastAnswer = .now
                if sent < 8 {
                    try await Task.sleep(for: .milliseconds(300))
                    try await outbound.write(ByteBuffer(string: Self.echo("r\(sent)")))
                    sent += 1
                }
                return false
            }
            let closed = ContinuousClock.now
            #expect(Self.answers(in: text) == 8 && text.hasSuffix("r7"), "\(text)")
            #expect(closed - opened > .seconds(2), "eight requests 300 ms apart outlast the 1 s timeout")
            #expect(closed - lastAnswer > .milliseconds(900) && closed - lastAnswer < .seconds(4), "closed \(closed - lastAnswer) after the last answer")
        }
    }

    @Test("at graceful shutdown a fast answer in progress is written whole, then the connection closes", .timeLimit(.minutes(1)))
    func shutdownAfterTheAnswer() async throws {
        let (held, shutDown) = try await Self.application(delay: .milliseconds(600)).test(.live) { client in
            let port = try #require(client.port)
            let held = Task {
                let text = try await RawConnection.exchange(port: port, Self.echo("slow") + Self.echo("never served")) { _, _ in false }
                return (text, ContinuousClock.now)
            }
            try await Task.sleep(for: .milliseconds(200))
            return (held, ContinuousClock.now)
        }
        let (text, closed) = try await held.value
        #expect(Self.answers(in: text) == 1 && text.hasSuffix("slow"), "the answer in progress, and not the request behind it: \(text)")
        #expect(closed - shutDown < .seconds(5), "closed \(closed - shutDown) after the shutdown began")
    }

    @Test("a client that shuts its side after its requests gets every answer, fast and router's, then the connection closes")
    func halfClosedClient() async throws {
        try await Self.application(delay: .milliseconds(200)).test(.live) { client in
            let port = try #require(client.port)
            let requests = Self.echo("first") + "GET /router HTTP/1.1\r\nHost: test\r\n\r\n" + Self.echo("last")
            let text = try await RawConnection.halfClosed(port: port, requests)
            #expect(Self.answers(in: text) == 3, "\(text)")
            #expect(text.contains("first") && text.contains("from the router") && text.hasSuffix("last"), "\(text)")
        }
    }

    @Test("an HTTP/1.0 request without keep-alive is answered, then the connection closes")
    func http10Closes() async throws {
        try await Self.application().test(.live) { client in
            let port = try #require(client.port)
            let sent = ContinuousClock.now
            let text = try await RawConnection.exchange(port: port, "POST /echo HTTP/1.0\r\nContent-Length: 3\r\n\r\nold", limit: .seconds(5)) { _, _ in false }
            #expect(Self.answers(in: text) == 1 && text.hasSuffix("old"), "\(text)")
            #expect(ContinuousClock.now - sent < .seconds(3), "closed after the answer, not held to the client's limit")
        }
    }

    @Test("bytes that do not parse behind a fast request in progress: its answer is written whole, then the connection closes")
    func garbageBehindAFastRequest() async throws {
        try await Self.application(delay: .milliseconds(300)).test(.live) { client in
            let port = try #require(client.port)
            let sent = ContinuousClock.now
            let text = try await RawConnection.exchange(port: port, Self.echo("kept") + "NOT HTTP AT ALL\r\n\r\n", limit: .seconds(5)) { _, _ in false }
            #expect(Self.answers(in: text) == 1 && text.hasSuffix("kept"), "\(text)")
            #expect(ContinuousClock.now - sent < .seconds(3), "closed after the answer, not held to the client's limit")
        }
    }

    @Test("Expect: 100-continue, for the fast route and for the router: 100 Continue, then the answer to the body sent after it", arguments: ["/echo", "/router"])
    func continueExpected(path: String) async throws {
        try await Self.application().test(.live) { client in
            let port = try #require(client.port)
            let head = "POST \(path) HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
            var sentBody = false
            let text = try await RawConnection.exchange(port: port, head, limit: .seconds(5)) { received, outbound in
                if !sentBody, received.hasPrefix("HTTP/1.1 100 Continue\r\n\r\n") {
                    sentBody = true
                    try await outbound.write(ByteBuffer(string: "body"))
                }
                return received.hasSuffix("body")
            }
            #expect(text.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), "\(text)")
            #expect(text.hasSuffix(path == "/echo" ? "\r\n\r\nbody" : "router read body"), "\(text)")
        }
    }

    @Test(
        "a request asking to switch protocols (curl --http2, a WebSocket, CONNECT) is answered in HTTP/1.1 with Connection: close, and the connection closes instead of hanging",
        arguments: [
            "GET /router HTTP/1.1\r\nHost: test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n",
            echo("up", fields: "Connection: Upgrade\r\nUpgrade: websocket\r\n"),
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        ]
    )
    func declinedUpgrade(request: String) async throws {
        try await Self.application().test(.live) { client in
            let port = try #require(client.port)
            let sent = ContinuousClock.now
            let next = "GET /router HTTP/1.1\r\nHost: test\r\n\r\n"
            let text = try await RawConnection.exchange(port: port, request + next, limit: .seconds(8)) { _, _ in false }
            let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
            #expect(statuses.count == 1 && statuses.first != "101", "one answer, nothing switched: \(text)")
            #expect(text.lowercased().contains("\r\nconnection: close\r\n"), "\(text)")
            #expect(ContinuousClock.now - sent < .seconds(4), "closed after the answer, not held to the client's limit")
        }
    }
}
