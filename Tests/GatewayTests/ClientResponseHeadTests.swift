import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import Testing

@testable import Gateway

@Suite("The edge's answers in wire form")
struct ClientResponseHeadTests {
    static func head(
        _ method: HTTPMethod = .GET, version: HTTPVersion = .http1_1, status: HTTPResponseStatus = .ok, fields: HTTPHeaders,
        close: Bool = false, connection: String? = nil
    ) -> ClientResponseHead {
        var request = HTTPRequestHead(version: version, method: method, uri: "/x")
        if let connection { request.headers.add(name: "connection", value: connection) }
        return ClientResponseHead(answering: request, status: status, fields: fields, requestID: "r-1", close: close, allocator: ByteBufferAllocator())
    }

    /// The status line and the fields (names lower-cased) of a written head.
    static func parsed(_ head: ClientResponseHead) -> (statusLine: String, fields: [(String, String)], rest: String) {
        let text = String(buffer: head.buffer)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let lines = parts[0].components(separatedBy: "\r\n")
        let fields = lines.dropFirst().map { line in
            let colon = line.firstIndex(of: ":")!
            return (line[..<colon].lowercased(), String(line[line.index(colon, offsetBy: 2)...]))
        }
        return (lines[0], fields, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    static func values(_ name: String, in head: ClientResponseHead) -> [String] {
        parsed(head).fields.filter { $0.0 == name }.map(\.1)
    }

    @Test("a body with a length keeps it; fields keep their order; the request id, Date and connection are the gateway's")
    func lengthFramed() {
        var head = Self.head(fields: [
            "Content-Type": "application/json", "Content-Length": "11", "X-Request-ID": "upstream's", "Set-Cookie": "a=1", "set-cookie": "b=2", "Retry-After": "3",
        ])
        head.append(body: ByteBuffer(string: #"{"ok":true}"#))
        let (statusLine, fields, rest) = Self.parsed(head)
        #expect(statusLine == "HTTP/1.1 200 OK")
        #expect(head.framing == .plain)
        #expect(fields.map(\.0) == ["content-type", "content-length", "set-cookie", "set-cookie", "retry-after", "x-request-id", "date"])
        #expect(Self.values("x-request-id", in: head) == ["r-1"])
        #expect(Self.values("set-cookie", in: head) == ["a=1", "b=2"])
        #expect(Self.values("date", in: head).first?.hasSuffix(" GMT") == true)
        #expect(rest == #"{"ok":true}"#)
    }

    @Test("an upstream's Date is kept, never doubled; Connection says how the connection ends")
    func dateAndConnection() {
        let dated = Self.head(fields: ["Date": "Sun, 06 Nov 1994 08:49:37 GMT", "content-length": "0", "Connection": "keep-alive"])
        #expect(Self.values("date", in: dated) == ["Sun, 06 Nov 1994 08:49:37 GMT"])
        #expect(Self.values("connection", in: dated).isEmpty)
        #expect(Self.values("connection", in: Self.head(fields: ["content-length": "0"], close: true)) == ["close"])
        #expect(Self.values("connection", in: Self.head(fields: ["content-length": "0"], connection: "close")) == ["close"])
        let old = Self.head(version: .http1_0, fields: ["content-length": "0"])
        #expect(Self.parsed(old).statusLine == "HTTP/1.0 200 OK")
        #expect(Self.values("connection", in: old) == ["close"], "an HTTP/1.0 request without keep-alive closes")
        let kept = Self.head(version: .http1_0, fields: ["content-length": "0"], connection: "keep-alive")
        #expect(Self.values("connection", in: kept) == ["keep-alive"])
    }

    @Test("without a length an HTTP/1.1 body is chunked (a whole one ends with the last chunk); HTTP/1.0 runs to the close")
    func unframed() {
        var chunked = Self.head(fields: ["Content-Type": "text/event-stream", "Transfer-Encoding": "gzip"])
        #expect(chunked.framing == .chunked)
        #expect(Self.values("transfer-encoding", in: chunked) == ["chunked"])
        chunked.append(body: ByteBuffer(string: "data: 1\n\n"))
        #expect(Self.parsed(chunked).rest == "9\r\ndata: 1\n\n\r\n0\r\n\r\n")

        var old = Self.head(version: .http1_0, fields: ["Content-Type": "text/plain", "Transfer-Encoding": "chunked"])
        #expect(old.framing == .plain)
        #expect(Self.values("transfer-encoding", in: old).isEmpty)
        old.append(body: ByteBuffer(string: "bytes"))
        #expect(Self.parsed(old).rest == "bytes")
    }

    @Test("HEAD keeps the framing fields and carries no body; 204, 304 and CONNECT lose them")
    func bodiless() {
        var head = Self.head(.HEAD, fields: ["content-length": "42"])
        head.append(body: ByteBuffer(string: "not sent"))
        #expect(head.framing == .bodyless && Self.values("content-length", in: head) == ["42"] && Self.parsed(head).rest.isEmpty)
        let headChunked = Self.head(.HEAD, fields: [:])
        #expect(headChunked.framing == .bodyless && Self.values("transfer-encoding", in: headChunked) == ["chunked"])
        for (method, status) in [(HTTPMethod.GET, HTTPResponseStatus.noContent), (.GET, .notModified), (.CONNECT, .ok)] {
            let answer = Self.head(method, status: status, fields: ["Content-Length": "5", "Transfer-Encoding": "chunked", "ETag": "\"v1\""])
            #expect(answer.framing == .bodyless)
            #expect(Self.values("content-length", in: answer).isEmpty && Self.values("transfer-encoding", in: answer).isEmpty, "\(method) \(status)")
            #expect(Self.values("etag", in: answer) == ["\"v1\""])
        }
    }
}
