import CHiredis
import NIOCore

/// A value that can be sent as one argument of a Redis command.
public protocol RedisArgument: Sendable {
    /// Appends the argument's bytes, as Redis should see them.
    func appendRedisBytes(to bytes: inout [UInt8])
}

extension String: RedisArgument {
    public func appendRedisBytes(to bytes: inout [UInt8]) { bytes.append(contentsOf: utf8) }
}

extension Substring: RedisArgument {
    public func appendRedisBytes(to bytes: inout [UInt8]) { bytes.append(contentsOf: utf8) }
}

extension Int: RedisArgument {
    public func appendRedisBytes(to bytes: inout [UInt8]) { bytes.append(contentsOf: String(self).utf8) }
}

extension Double: RedisArgument {
    public func appendRedisBytes(to bytes: inout [UInt8]) { bytes.append(contentsOf: String(self).utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public func appendRedisBytes(to bytes: inout [UInt8]) { bytes.append(contentsOf: self) }
}

extension ByteBuffer: RedisArgument {
    public func appendRedisBytes(to bytes: inout [UInt8]) { bytes.append(contentsOf: readableBytesView) }
}

/// One Redis command: its name and arguments, binary-safe.
public struct RedisCommand: Sendable {
    private var storage: [UInt8] = []
    private var lengths: [Int] = []
    /// The command's name, upper-cased (as given when it already is: no copy per command).
    public let name: String

    /// A command with its arguments, e.g. `RedisCommand("SET", ["key", "value"])`; room is made
    /// for `more` words of `moreBytes` bytes to be appended after them.
    public init(_ name: String, _ arguments: [any RedisArgument] = [], more: Int = 0, moreBytes: Int = 0) {
        self.name = name.utf8.contains { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") } ? name.uppercased() : name
        storage.reserveCapacity(name.utf8.count + 16 * arguments.count + moreBytes)
        lengths.reserveCapacity(1 + arguments.count + more)
        append(name)
        for argument in arguments { append(argument) }
    }

    /// Appends one argument.
    public mutating func append(_ argument: some RedisArgument) {
        let start = storage.count
        argument.appendRedisBytes(to: &storage)
        lengths.append(storage.count - start)
    }

    /// Appends `PX <milliseconds>`: an expiry `duration` from now, in whole milliseconds.
    public mutating func append(expiry duration: Duration) {
        append("PX")
        append(Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000))
    }

    /// The number of words, the name included.
    public var count: Int { lengths.count }

    /// Every word's bytes, the name first.
    var words: [ArraySlice<UInt8>] {
        var offset = 0
        return lengths.map { length in
            defer { offset += length }
            return storage[offset..<(offset + length)]
        }
    }

    /// The command in RESP2 wire form, formatted by hiredis.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        storage.withUnsafeBufferPointer { base in
            var target: UnsafeMutablePointer<CChar>?
            let size = withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: lengths.count) { pointers in
                var offset = 0
                let start = UnsafeRawPointer(base.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                for (index, length) in lengths.enumerated() {
                    pointers.initializeElement(at: index, to: (start + offset).assumingMemoryBound(to: CChar.self))
                    offset += length
                }
                return lengths.withUnsafeBufferPointer { sizes in
                    redisFormatCommandArgv(&target, Int32(lengths.count), pointers.baseAddress, sizes.baseAddress)
                }
            }
            guard size >= 0, let target else {
                preconditionFailure("hiredis could not allocate a \(lengths.count)-word command")
            }
            defer { redisFreeCommand(target) }
            var buffer = allocator.buffer(capacity: Int(size))
            buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(size)))
            return buffer
        }
    }
}

extension RedisCommand: CustomStringConvertible {
    /// The command's name and argument count, never its values (they may be secrets).
    public var description: String { "\(name) (\(count - 1) arguments)" }
}
