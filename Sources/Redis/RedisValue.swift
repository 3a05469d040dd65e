import NIOCore

/// A reply from Redis, as RESP2 types it.
public enum RedisValue: Sendable, Hashable {
    /// A status reply such as `OK` or `PONG`.
    case simpleString(String)
    /// A binary-safe bulk string.
    case bulkString(ByteBuffer)
    /// An integer reply.
    case integer(Int)
    /// A multi-bulk reply.
    case array([RedisValue])
    /// The nil bulk string or nil array.
    case null
    /// An error reply nested inside an array (a top-level error reply fails the command instead).
    case error(RedisServerError)
}

extension RedisValue {
    /// The value as text: bulk and status strings decode as UTF-8, integers print in decimal.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let buffer): String(buffer: buffer)
        case .integer(let value): String(value)
        default: nil
        }
    }

    /// The value as an integer: integer replies, and strings holding a decimal integer.
    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .bulkString, .simpleString: string.flatMap { Int($0) }
        default: nil
        }
    }

    /// The value as a floating-point number, for replies such as `INCRBYFLOAT` or `ZSCORE`.
    public var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .bulkString, .simpleString: string.flatMap { Double($0) }
        default: nil
        }
    }

    /// The raw bytes of a bulk or status string.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let buffer): Array(buffer.readableBytesView)
        case .simpleString(let text): Array(text.utf8)
        default: nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    /// An array reply of alternating names and values (`HGETALL`, `XINFO`, a stream entry's
    /// fields) as a dictionary; pairs whose name is not a string are left out.
    public var fields: [String: RedisValue]? {
        pairs { $0 }
    }

    /// `fields`, keeping only the values that are strings (built at once, without the
    /// intermediate dictionary: a stream consumer reads thousands of entries a second).
    public var stringFields: [String: String]? {
        pairs(\.string)
    }

    /// The name/value pairs of an array reply, each value read by `value` (dropped when nil; a
    /// repeated name keeps its last pair).
    private func pairs<Value>(_ value: (RedisValue) -> Value?) -> [String: Value]? {
        guard let values = array else { return nil }
        var fields: [String: Value] = [:]
        fields.reserveCapacity(values.count / 2)
        for index in stride(from: 0, to: values.count - 1, by: 2) {
            if let name = values[index].string { fields[name] = value(values[index + 1]) }
        }
        return fields
    }

    /// Whether this is the nil reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension RedisValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .simpleString(let text): "+\(text)"
        case .bulkString(let buffer): String(buffer: buffer).debugDescription
        case .integer(let value): "(integer) \(value)"
        case .array(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .null: "(nil)"
        case .error(let error): "-\(error.message)"
        }
    }
}
