import Foundation
import NIOCore
import NIOHTTP1
import ServiceTestSupport
import Testing

@testable import Gateway

/// Requests that ask to switch protocols (`Upgrade: h2c` from `curl --http2`, `Upgrade: websocket`,
/// `CONNECT`) are answered in HTTP/1.1, and the connection goes on in HTTP/1.1 (RFC 9110 §7.8).
@Suite("An upgrade the gateway declines leaves the connection usable")
struct EdgeUpgradeTests {
    static let h2c = "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"

    @Test("the parser stops after exactly the requests llhttp stops after")
    func stopsParsing() {
        func head(_ fields: [(String, String)], method: HTTPMethod = .GET) -> HTTPRequestHead {
            HTTPRequestHead(version: .http1_1, method: method, uri: "/", headers: HTTPHeaders(fields))
        }
        #expect(head([("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c")]).stopsRequestParsing)
        #expect(head([("Connection", "keep-alive, Upgrade"), ("Upgrade", "websocket")]).stopsRequestParsing)
        #expect(head([("connection", "upgrade"), ("upgrade", "websocket")]).stopsRequestParsing)
        #expect(head([], method: .CONNECT).stopsRequestParsing)
        #expect(!head([("Upgrade", "h2c")]).stopsRequestParsing, "Upgrade without the Connection token")
        #expect(!head([("Connection", "Upgrade")]).stopsRequestParsing, "the token without Upgrade")
        #expect(!head([("Connection", "upgraded"), ("Upgrade", "h2c")]).stopsRequestParsing)
    }

    @Test("after a declined upgrade, the next requests on the connection are answered: the edge's, a proxied route's, the router's, pipelined")
    func connectionGoesOn() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: EdgeMethodTests.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let cases: [(String, String)] = [
                        ("the edge's own /health", "GET /health HTTP/1.1\r\nHost: gw\r\n" + Self.h2c + "\r\n"),
                        ("a proxied route", "GET /api/echo/any/up HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
                        ("the router", "GET /openapi.json HTTP/1.1\r\nHost: gw\r\n" + Self.h2c + "\r\n"),
                        ("CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
                    ]
                    for (what, first) in cases {
                        for pipelined in [false, true] {
                            let next = "GET /api/echo/any/next HTTP/1.1\r\nHost: gw\r\n\r\n"
                            var sent = pipelined
                            let text = try await RawConnection.exchange(port: port, pipelined ? first + next : first, limit: .seconds(10)) { received, outbound in
                                if !sent, Self.firstAnswerIsWhole(received) {
                                    sent = true
                                    try await outbound.write(ByteBuffer(string: next))
                                }
                                return received.components(separatedBy: "HTTP/1.1 ").count == 3 && received.hasSuffix("}")
                            }
                            let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
                            #expect(statuses.count == 2 && statuses.last == "200", "\(what), pipelined \(pipelined): \(text)")
                            #expect(!statuses.contains("101"), "\(what): nothing switches")
                            #expect(text.replacingOccurrences(of: "\\/", with: "/").contains("/api/echo/any/next"), "\(what), pipelined \(pipelined): \(text)")
                        }
                    }
                }
            }
        }
    }

    /// Whether `text` holds the whole of a first answer framed by its `Content-Length`.
    static func firstAnswerIsWhole(_ text: String) -> Bool {
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let fields = text[..<end.lowerBound].lowercased().components(separatedBy: "\r\n")
        guard let length = fields.first(where: { $0.hasPrefix("content-length:") }).flatMap({ Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) }) else {
            return false
        }
        return text.utf8.count - text[..<end.upperBound].utf8.count >= length
    }
}
