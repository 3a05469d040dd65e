import NIOCore
import NIOHTTP1

/// NIO's HTTP/1 response decoder, told each request's method directly instead of watching
/// the request go by: upstream requests are written as bytes (``UpstreamRequestHead``), so
/// nothing typed passes the decoder on the way out. Interim (1xx) heads are passed on, each
/// without an end, for the exchange to forward.
final class UpstreamResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart

    private let http = HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .forward)
    /// The head last told to the decoder: told again for the next request with the same method
    /// (a connection's requests mostly share one), so telling it allocates nothing.
    private var lastHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: "")

    /// Notes a request sent on the connection, so the answer to a `HEAD` is read without a body.
    func expectResponse(to method: HTTPMethod) {
        if lastHead.method != method { lastHead = HTTPRequestHead(version: .http1_1, method: method, uri: "") }
        http.write(data: .head(lastHead))
    }

    func decoderAdded(context: ChannelHandlerContext) {
        http.decoderAdded(context: context)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try http.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try http.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        http.decoderRemoved(context: context)
    }
}
