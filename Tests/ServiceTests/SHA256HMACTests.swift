import Crypto
import Foundation
import ServiceKit
import Testing

@Suite("HMAC-SHA256 with its key schedule done once makes Crypto's codes")
struct SHA256HMACTests {
    static func hex(_ text: String) -> [UInt8] {
        hexDecoded(Array(text.utf8), limit: 256)!
    }

    @Test("RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (keys of 20, 4, 20, 25 and 131 bytes)")
    func rfc4231() {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            ([UInt8](repeating: 0x0B, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xAA, count: 20), [UInt8](repeating: 0xDD, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (Self.hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), [UInt8](repeating: 0xCD, count: 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            ([UInt8](repeating: 0xAA, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ([UInt8](repeating: 0xAA, count: 131),
             Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        for (key, data, mac) in cases {
            let code = data.withUnsafeBytes { SHA256HMAC(secret: key).code(of: $0) }
            #expect(code.hexString == mac)
        }
    }

    @Test("every key length around the block size, and messages fed in pieces, match HMAC<SHA256>")
    func matchesCrypto() {
        var generator = SystemRandomNumberGenerator()
        for keyLength in [0, 1, 31, 32, 63, 64, 65, 127, 128, 129, 200] {
            let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let prepared = SHA256HMAC(secret: key)
            for messageLength in [0, 1, 55, 56, 63, 64, 65, 119, 120, 300] {
                let message = (0..<messageLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
                let whole = message.withUnsafeBytes { prepared.code(of: $0) }
                let split = messageLength / 3
                let pieces = prepared.code { hasher in
                    message[..<split].withUnsafeBytes { hasher.update(bufferPointer: $0) }
                    message[split...].withUnsafeBytes { hasher.update(bufferPointer: $0) }
                }
                #expect(Array(whole) == expected, "key \(keyLength) bytes, message \(messageLength) bytes")
                #expect(Array(pieces) == expected, "key \(keyLength) bytes, message \(messageLength) bytes in two pieces")
            }
        }
    }

    @Test("one prepared key serves concurrent codes without sharing hasher state")
    func concurrentCodes() async {
        let prepared = SHA256HMAC(secret: Array("concurrent-codes-key".utf8))
        let codes = await withTaskGroup(of: (Int, [UInt8]).self) { group in
            for index in 0..<64 {
                group.addTask { (index, Array(prepared.code { $0.update(utf8: "message \(index)") })) }
            }
            return await group.reduce(into: [Int: [UInt8]]()) { $0[$1.0] = $1.1 }
        }
        for index in 0..<64 {
            let expected = Array(HMAC<SHA256>.authenticationCode(for: Array("message \(index)".utf8), using: SymmetricKey(data: Array("concurrent-codes-key".utf8))))
            #expect(codes[index] == expected)
        }
    }

    @Test("a code's prefix matches only the same bytes, and never an empty or too long prefix")
    func startsWithCode() {
        let code = SHA256HMAC(secret: Array("prefix-key".utf8)).code { $0.update(utf8: "payload") }
        let bytes = Array(code)
        #expect(code.starts(withCode: bytes))
        #expect(code.starts(withCode: Array(bytes.prefix(16))))
        #expect(!code.starts(withCode: []))
        #expect(!code.starts(withCode: bytes + [0]))
        #expect(code.isCode(bytes))
        #expect(!code.isCode(Array(bytes.prefix(16))), "a prefix is not the whole code")
        #expect(!code.isCode(bytes + [0]))
        for index in bytes.indices {
            var changed = bytes
            changed[index] ^= 0x01
            #expect(!code.starts(withCode: changed))
        }
    }

    @Test("a substring and a string with the same text feed the same bytes")
    func updateUTF8() {
        let prepared = SHA256HMAC(secret: Array("utf8-key".utf8))
        let text = "prefix:visitor-é-✓:suffix"
        let whole = prepared.code { $0.update(utf8: text) }
        let substring = prepared.code { $0.update(utf8: text[...]) }
        let bytes = Array(text.utf8).withUnsafeBytes { prepared.code(of: $0) }
        #expect(whole == substring)
        #expect(whole == bytes)
    }
}
