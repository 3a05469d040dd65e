import NIOCore
import NIOHTTP1
import Testing

@testable import Gateway

@Suite("Upstream request heads written as bytes")
struct UpstreamRequestHeadTests {
    @Test("the request line, fields, blank line and body come out in HTTP/1.1 form")
    func layout() {
        var head = UpstreamRequestHead(method: .POST, target: "/base/items?x=1", allocator: ByteBufferAllocator(), capacity: 16)
        head.add(name: "host", value: "backend:8080")
        head.addChecked(name: "x-gateway-user-id", value: "alice")
        head.add(name: "content-length", value: "4")
        head.end()
        head.append(ByteBuffer(string: "body"))
        #expect(head.isValid)
        #expect(String(buffer: head.buffer) == "POST /base/items?x=1 HTTP/1.1\r\nhost: backend:8080\r\nx-gateway-user-id: alice\r\ncontent-length: 4\r\n\r\nbody")
    }

    @Test("a checked value with a control character is left out and marks the head invalid", arguments: [
        "a\r\nx-evil: 1", "a\nb", "a\rb", "a\u{0}b", "a\u{7F}b", "\u{1B}[31m",
    ])
    func refused(value: String) {
        var head = UpstreamRequestHead(method: .GET, target: "/", allocator: ByteBufferAllocator(), capacity: 64)
        head.addChecked(name: "x-gateway-user-id", value: value)
        #expect(!head.isValid)
        #expect(!String(buffer: head.buffer).contains("x-gateway-user-id"))
    }

    @Test("HTAB, spaces and non-ASCII text are field content")
    func allowed() {
        var head = UpstreamRequestHead(method: .GET, target: "/", allocator: ByteBufferAllocator(), capacity: 64)
        head.addChecked(name: "x-gateway-user-id", value: "Zoë\tvan der Berg")
        #expect(head.isValid)
        #expect(String(buffer: head.buffer).hasSuffix("x-gateway-user-id: Zoë\tvan der Berg\r\n"))
    }
}
