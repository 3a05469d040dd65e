import Foundation
import ServiceKit
import Testing

@Suite("UUID text")
struct UUIDTextTests {
    @Test("16 bytes are written as Foundation writes the same UUID, in lower case")
    func sameAsFoundation() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let d = (0..<16).map { _ in UInt8.random(in: 0 ... .max, using: &generator) }
            let foundation = UUID(uuid: (d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]))
            #expect(UUIDText.lowercased(d) == foundation.uuidString.lowercased())
        }
        #expect(UUIDText.lowercased([UInt8](0..<20)) == "00010203-0405-0607-0809-0a0b0c0d0e0f", "only the first 16 bytes")
    }

    @Test("random UUIDs are version 4, variant 1, lower case, and differ")
    func randomVersion4() throws {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let text = UUIDText.random()
            let parsed = try #require(UUID(uuidString: text), "\(text) is a UUID")
            #expect(parsed.uuidString.lowercased() == text)
            #expect(parsed.uuid.6 >> 4 == 4, "version 4: \(text)")
            #expect(parsed.uuid.8 >> 6 == 0b10, "RFC 4122 variant: \(text)")
            seen.insert(text)
        }
        #expect(seen.count == 1000)
    }

    @Test("version4 keeps every bit but the six of version and variant")
    func version4Bits() {
        let text = UUIDText.version4(.max, .max)
        #expect(text == "ffffffff-ffff-4fff-bfff-ffffffffffff")
        #expect(UUIDText.version4(0, 0) == "00000000-0000-4000-8000-000000000000")
    }
}
