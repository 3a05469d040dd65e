import CHiredis
import NIOCore

/// Turns bytes from Redis into `RedisValue`s with hiredis's reply reader.
///
/// hiredis keeps every byte it is fed, so after each feed this handler passes on *every* reply
/// that is complete: bytes already taken would never be offered again.
final class RedisReplyDecoder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = RedisValue

    private var reader: UnsafeMutablePointer<redisReader>?

    init() {
        self.reader = redisReaderCreate()
    }

    deinit {
        if let reader { redisReaderFree(reader) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let reader else { return }
        let fed = buffer.withUnsafeReadableBytes { bytes in
            redisReaderFeed(reader, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard fed == REDIS_OK else {
            return fail(context: context)
        }
        while true {
            var reply: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &reply) == REDIS_OK else {
                return fail(context: context)
            }
            guard let reply else { break }
            let value = RedisValue(reply: reply.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(reply)
            context.fireChannelRead(wrapInboundOut(value))
        }
    }

    private func fail(context: ChannelHandlerContext) {
        var message = "reader unavailable"
        if let reader {
            message = withUnsafeBytes(of: reader.pointee.errstr) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            redisReaderFree(reader)
        }
        reader = nil
        context.fireErrorCaught(RedisError.protocolViolation(message))
    }
}

extension RedisValue {
    /// Copies a hiredis reply tree into Swift values. The bytes of all its bulk strings go into
    /// one buffer, each string a slice of it: one allocation per reply, not two per string (a
    /// stream read brings dozens). A string kept from a reply keeps that buffer alive.
    init(reply: UnsafePointer<redisReply>) {
        var strings = ByteBufferAllocator().buffer(capacity: Self.stringBytes(in: reply))
        Self.write(stringsOf: reply, to: &strings)
        var offset = strings.readerIndex
        self.init(reply: reply, strings: strings, offset: &offset)
    }

    private init(reply: UnsafePointer<redisReply>, strings: ByteBuffer, offset: inout Int) {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            self = .bulkString(strings.getSlice(at: offset, length: node.len)!)
            offset += node.len
        case REDIS_REPLY_STATUS:
            self = .simpleString(Self.text(node))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int(node.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisValue] = []
            elements.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                if let element = node.element[index] { elements.append(RedisValue(reply: element, strings: strings, offset: &offset)) }
            }
            self = .array(elements)
        case REDIS_REPLY_ERROR:
            self = .error(RedisServerError(message: Self.text(node)))
        default:
            self = .null
        }
    }

    /// How many bytes the bulk strings of the tree at `reply` hold together.
    private static func stringBytes(in reply: UnsafePointer<redisReply>) -> Int {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING: return node.len
        case REDIS_REPLY_ARRAY: return (0..<node.elements).reduce(0) { total, index in total + (node.element[index].map { stringBytes(in: $0) } ?? 0) }
        default: return 0
        }
    }

    /// Writes the bulk strings of the tree at `reply` to `buffer`, depth first, as
    /// ``init(reply:strings:offset:)`` reads them back.
    private static func write(stringsOf reply: UnsafePointer<redisReply>, to buffer: inout ByteBuffer) {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            buffer.writeBytes(UnsafeRawBufferPointer(start: node.str, count: node.len))
        case REDIS_REPLY_ARRAY:
            for index in 0..<node.elements {
                if let element = node.element[index] { write(stringsOf: element, to: &buffer) }
            }
        default:
            break
        }
    }

    private static func text(_ node: redisReply) -> String {
        String(decoding: UnsafeRawBufferPointer(start: node.str, count: node.len), as: UTF8.self)
    }
}
