import Instrumentation
import NIOCore
import NIOHTTP1
import ServiceKit

/// A proxied request's line and fields as the upstream gets them, written straight into one
/// buffer: no `HTTPHeaders` copy, no encoder and no second validation pass on the hot path.
///
/// Everything taken from the client's request was checked by the HTTP parser when it arrived.
/// Values the gateway adds from elsewhere (a token's identity) go through ``addChecked(name:value:)``.
struct UpstreamRequestHead {
    private(set) var buffer: ByteBuffer
    /// False once a checked value could not be carried in a header field.
    private(set) var isValid = true

    /// Starts `METHOD target HTTP/1.1`.
    init(method: HTTPMethod, target: String, allocator: ByteBufferAllocator, capacity: Int) {
        buffer = allocator.buffer(capacity: capacity)
        buffer.writeString(method.rawValue)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(target)
        buffer.writeStaticString(" HTTP/1.1\r\n")
    }

    /// Appends `name: value`.
    mutating func add(name: String, value: String) {
        buffer.writeHTTPField(name: name, value: value)
    }

    /// Appends `name: value` when the value holds no control character (HTAB aside), as RFC 9110
    /// §5.5 asks; otherwise marks the head invalid.
    mutating func addChecked(name: String, value: String) {
        guard Self.isSafeFieldValue(value) else {
            isValid = false
            return
        }
        add(name: name, value: value)
    }

    /// Appends body bytes after the ended head.
    mutating func append(_ body: ByteBuffer) {
        buffer.writeImmutableBuffer(body)
    }

    /// Ends the fields; the head is complete.
    mutating func end() {
        buffer.writeStaticString("\r\n")
    }

    static func isSafeFieldValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }
}

/// Puts a trace context into an upstream request's fields (W3C `traceparent`, `tracestate`).
struct UpstreamRequestHeadInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout UpstreamRequestHead) {
        carrier.addChecked(name: key, value: value)
    }
}
