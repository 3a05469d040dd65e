import NIOCore
import NIOHTTP1

extension HTTPRequestHead {
    /// Whether the client holds its body back until the server answers `100 Continue` (RFC 9110
    /// §10.1.1; curl waits a second, then sends it anyway): an HTTP/1.1 request with a body and
    /// `Expect: 100-continue`.
    public var expectsContinue: Bool {
        guard headers.contains(name: "expect"), version.isHTTP11OrLater,
              let expectation = headers.value(of: "expect"), expectation.utf8.count == 12, expectation.lowercased() == "100-continue"
        else { return false }
        return headers.contains(name: "transfer-encoding") || (headers.value(of: "content-length").flatMap { Int($0) } ?? 0) > 0
    }
}

extension SocketWire {
    /// Writes the interim answer `100 Continue` to the socket. Only for the connection's current
    /// request, so that it never lands inside the answer to an earlier one.
    public func writeContinue(allocator: ByteBufferAllocator) {
        write(allocator.buffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n"), flush: true)
    }
}
