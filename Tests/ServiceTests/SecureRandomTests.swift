import ServiceKit
import Testing

@Suite("Secure random bytes")
struct SecureRandomTests {
    @Test("each draw is 16 fresh bytes, every bit set about half the time")
    func freshBalancedBytes() {
        var draws = Set<[UInt8]>()
        var ones = [Int](repeating: 0, count: 128)
        for _ in 0..<1000 {
            let bytes = SecureRandom.with16Bytes { Array($0) }
            #expect(bytes.count == 16)
            draws.insert(bytes)
            for bit in 0..<128 where bytes[bit / 8] >> (bit % 8) & 1 == 1 { ones[bit] += 1 }
        }
        #expect(draws.count == 1000)
        // 1,000 fair draws: each count is 500 ± 15.8 (one standard deviation); 400...600 is ±6.3.
        #expect(ones.allSatisfy { (400...600).contains($0) }, "\(ones)")
    }

    @Test("threads drawing at once get different bytes")
    func concurrentDraws() async {
        let draws = await withTaskGroup(of: [[UInt8]].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<200).map { _ in SecureRandom.with16Bytes { Array($0) } } }
            }
            return await group.reduce(into: [[UInt8]]()) { $0 += $1 }
        }
        #expect(Set(draws).count == 1600)
    }
}
