import Foundation
import NIOCore
import Testing

@testable import Gateway

/// Answers read off one raw connection, framed as HTTP/1.1 frames them.
struct WireAnswers {
    struct Answer {
        var statusLine: String
        var fields: [String: String]
        var body: String
    }

    var answers: [Answer] = []
    /// Bytes left over after the last answer: none on a connection in step.
    var leftover = ""

    /// Reads `raw` as the answers to requests whose methods are `methods`, in order.
    init(_ raw: String, methods: [String]) throws {
        var rest = Array(raw.utf8)[...]
        func take(upTo separator: String) throws -> String {
            let pattern = Array(separator.utf8)
            let at = try #require(
                rest.indices.first { rest[$0...].starts(with: pattern) }, "\(separator.debugDescription) in \(String(decoding: rest, as: UTF8.self).debugDescription)"
            )
            defer { rest = rest[(at + pattern.count)...] }
            return String(decoding: rest[..<at], as: UTF8.self)
        }
        for method in methods {
            let lines = try take(upTo: "\r\n\r\n").components(separatedBy: "\r\n")
            var fields: [String: String] = [:]
            for line in lines.dropFirst() {
                let colon = try #require(line.firstIndex(of: ":"))
                fields[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            }
            var body: [UInt8] = []
            let status = Int(lines[0].split(separator: " ")[1]) ?? 0
            if method == "HEAD" || status == 204 || status == 304 {
            } else if let length = fields["content-length"].flatMap(Int.init) {
                body = Array(rest.prefix(length))
                rest = rest.dropFirst(length)
            } else if fields["transfer-encoding"] == "chunked" {
                while true {
                    let size = try #require(Int(try take(upTo: "\r\n"), radix: 16))
                    if size == 0 {
                        #expect(try take(upTo: "\r\n").isEmpty, "the last chunk ends with an empty line")
                        break
                    }
                    body += rest.prefix(size)
                    rest = rest.dropFirst(size)
                    #expect(try take(upTo: "\r\n").isEmpty, "a chunk ends with CRLF")
                }
            } else {
                body = Array(rest)
                rest = []
            }
            answers.append(Answer(statusLine: lines[0], fields: fields, body: String(decoding: body, as: UTF8.self)))
        }
        leftover = String(decoding: rest, as: UTF8.self)
    }
}

@Suite("How the edge frames what it writes")
struct EdgeFramingTests {
    static func routes(_ upstream: String) -> RouteTable {
        ReverseProxyTests.routes(upstream, [ProxyRoute(name: "stream", prefix: "/api/stream", upstreams: [upstream])])
    }

    @Test("HEAD to the router, the edge and an upstream, then a chunked stream, on one connection: no body byte out of place")
    func headsAndChunks() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: Self.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let requests = "HEAD /no-such-route HTTP/1.1\r\nHost: gw\r\n\r\n"
                        + "HEAD /api/echo/x HTTP/1.1\r\nHost: gw\r\n\r\n"
                        + "GET /no-such-route HTTP/1.1\r\nHost: gw\r\n\r\n"
                        + "HEAD /api/down/x HTTP/1.1\r\nHost: gw\r\n\r\n"
                        + "GET /api/stream HTTP/1.1\r\nHost: gw\r\n\r\n"
                        + "GET /health HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"
                    let (_, raw) = try await RawClient.firstAndAll(port: port, requests)
                    let wire = try WireAnswers(raw, methods: ["HEAD", "HEAD", "GET", "HEAD", "GET", "GET"])
                    let answers = wire.answers
                    #expect(wire.leftover.isEmpty, "nothing after the last answer: \(wire.leftover.debugDescription)")
                    #expect(answers.map { $0.statusLine.split(separator: " ")[1] } == ["404", "200", "404", "502", "200", "200"])
                    #expect(answers[0].fields["content-type"] == "application/problem+json", "the router's HEAD answer keeps its fields")
                    #expect(answers[2].body.contains("\"status\":404"), "the same request with GET has the body the HEAD answer left out")
                    #expect(answers[3].fields["content-type"] == "application/problem+json" && answers[3].fields["content-length"] != nil)
                    #expect(answers[4].fields["transfer-encoding"] == "chunked" && answers[4].fields["content-length"] == nil)
                    #expect(answers[4].body == "data: 1\n\ndata: 2\n\ndata: 3\n\n")
                    #expect(answers[5].body.contains("\"status\":\"ok\"") && answers[5].fields["connection"] == "close")
                    #expect(answers.allSatisfy { $0.fields["x-request-id"] != nil && $0.fields["date"] != nil })
                }
            }
        }
    }

    @Test("an HTTP/1.0 client gets a stream without chunks, ended by the close")
    func http10Stream() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: Self.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let (_, raw) = try await RawClient.firstAndAll(port: port, "GET /api/stream HTTP/1.0\r\nHost: gw\r\n\r\n")
                    let answer = try #require(try WireAnswers(raw, methods: ["GET"]).answers.first)
                    #expect(answer.statusLine == "HTTP/1.0 200 OK")
                    #expect(answer.fields["transfer-encoding"] == nil && answer.fields["connection"] == "close")
                    #expect(answer.body == "data: 1\n\ndata: 2\n\ndata: 3\n\n")
                }
            }
        }
    }
}
