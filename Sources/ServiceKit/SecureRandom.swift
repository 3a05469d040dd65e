#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Random bytes for the ids and tickets made on hot paths (visitor tickets, booking ids, pass
/// claims), from the kernel's generator in 4 KiB reads of `/dev/urandom`: one system call per
/// 256 draws of 16 bytes, where `SystemRandomNumberGenerator` makes one `getrandom` call for
/// every 8 bytes. Each byte is handed out once and wiped from the pool as it goes; each thread
/// draws from its own pool (``ThreadStripe``). The process must not fork without `exec`: a
/// child would repeat its parent's pool. Without `/dev/urandom` it draws from
/// `SystemRandomNumberGenerator`.
public enum SecureRandom {
    /// Hands `body` 16 fresh random bytes (128 bits).
    public static func with16Bytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var bytes: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &bytes) { draw(into: $0) }
        defer { bytes = (0, 0) }
        return try withUnsafeBytes(of: &bytes, body)
    }

    static let poolSize = 4096
    private static let stripeCount = 8
    private static let stripes = (0..<stripeCount).map { _ in Stripe() }
    private static let urandom: Int32 = open("/dev/urandom", O_RDONLY | O_CLOEXEC)

    private final class Stripe: Sendable {
        let pool = Mutex(Pool())
    }

    private struct Pool {
        var bytes = [UInt8](repeating: 0, count: SecureRandom.poolSize)
        /// The bytes before this one have been handed out (and wiped).
        var next = SecureRandom.poolSize
    }

    private static func draw(into target: UnsafeMutableRawBufferPointer) {
        let served = stripes[ThreadStripe.current(of: stripeCount)].pool.withLock { pool in
            if pool.next + target.count > poolSize {
                guard refill(&pool.bytes) else { return false }
                pool.next = 0
            }
            pool.bytes.withUnsafeMutableBytes { source in
                let range = pool.next..<(pool.next + target.count)
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[range]))
                UnsafeMutableRawBufferPointer(rebasing: source[range]).initializeMemory(as: UInt8.self, repeating: 0)
            }
            pool.next += target.count
            return true
        }
        if !served {
            var generator = SystemRandomNumberGenerator()
            for start in stride(from: 0, to: target.count, by: 8) {
                withUnsafeBytes(of: generator.next() as UInt64) { word in
                    let end = min(start + 8, target.count)
                    UnsafeMutableRawBufferPointer(rebasing: target[start..<end]).copyMemory(from: UnsafeRawBufferPointer(rebasing: word[0..<(end - start)]))
                }
            }
        }
    }

    /// Fills `bytes` from `/dev/urandom`; false when it cannot be read.
    private static func refill(_ bytes: inout [UInt8]) -> Bool {
        guard urandom >= 0 else { return false }
        return bytes.withUnsafeMutableBytes { buffer in
            var filled = 0
            while filled < buffer.count {
                let count = read(urandom, buffer.baseAddress! + filled, buffer.count - filled)
                if count > 0 {
                    filled += count
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    return false
                }
            }
            return true
        }
    }
}
