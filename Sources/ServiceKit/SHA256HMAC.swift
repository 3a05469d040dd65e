import Crypto

/// HMAC-SHA256 (RFC 2104) for one key, with the key schedule done once; it makes the same codes
/// as Crypto's `HMAC<SHA256>`.
///
/// It calls only `SHA256`'s concrete methods. `HMAC<SHA256>` is generic and, reached from another
/// module, runs unspecialised: its metadata lookups and witness calls cost several times the two
/// compression rounds of a short message, on every visitor ticket, place token and gateway
/// signature (`bench/results/join-profile-stop41-before.txt` against `join-profile-stop41.txt`).
public struct SHA256HMAC: Sendable {
    /// SHA-256 after the key XOR ipad block: every code continues a copy of it.
    private let inner: SHA256
    /// SHA-256 after the key XOR opad block.
    private let outer: SHA256

    public init(key: SymmetricKey) {
        var block = [UInt8](repeating: 0, count: SHA256.blockByteCount)
        key.withUnsafeBytes { key in
            block.withUnsafeMutableBytes { block in
                if key.count > block.count {
                    var hasher = SHA256()
                    hasher.update(bufferPointer: key)
                    hasher.finalize().withUnsafeBytes { block.copyMemory(from: $0) }
                } else {
                    block.copyMemory(from: key)
                }
            }
        }
        self.inner = Self.hasher(after: block, xor: 0x36)
        self.outer = Self.hasher(after: block, xor: 0x5C)
    }

    /// - Parameter secret: the key's bytes.
    public init(secret: [UInt8]) {
        self.init(key: SymmetricKey(data: secret))
    }

    private static func hasher(after block: [UInt8], xor pad: UInt8) -> SHA256 {
        var hasher = SHA256()
        block.map { $0 ^ pad }.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher
    }

    /// The code of what `feed` hands the hasher, e.g. `code { $0.update(utf8: text) }`.
    public func code(_ feed: (inout SHA256) -> Void) -> SHA256.Digest {
        var hasher = inner
        feed(&hasher)
        var outer = self.outer
        hasher.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }

    /// The code of `bytes`.
    public func code(of bytes: UnsafeRawBufferPointer) -> SHA256.Digest {
        code { $0.update(bufferPointer: bytes) }
    }
}

extension SHA256.Digest {
    /// Whether `bytes` are this whole digest, compared as ``starts(withCode:)`` compares.
    public func isCode(_ bytes: [UInt8]) -> Bool {
        bytes.count == SHA256.byteCount && starts(withCode: bytes)
    }

    /// Whether the first `bytes.count` bytes of the digest are `bytes` (at least one byte), in
    /// time that does not depend on where they differ.
    public func starts(withCode bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, bytes.count <= SHA256.byteCount else { return false }
        return withUnsafeBytes { digest in
            var difference: UInt8 = 0
            for index in bytes.indices { difference |= digest[index] ^ bytes[index] }
            return difference == 0
        }
    }
}

extension SHA256 {
    /// Adds the UTF-8 bytes of `text`, without copying a native string into an array first.
    @inlinable
    public mutating func update(utf8 text: some StringProtocol) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if done == nil { Array(text.utf8).withUnsafeBytes { update(bufferPointer: $0) } }
    }
}
