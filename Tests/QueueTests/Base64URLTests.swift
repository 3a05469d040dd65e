import Foundation
import Testing
import Tokens

@Suite("URL-safe base64")
struct Base64URLTests {
    @Test("RFC 4648 vectors, unpadded, and the two URL-safe letters")
    func vectors() {
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
    }

    @Test("Every length from 0 to 64 round-trips and agrees with Foundation's base64")
    func agreesWithFoundation() {
        var random = SystemRandomNumberGenerator()
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0 ... .max, using: &random) }
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            let encoded = Base64URL.encode(bytes)
            #expect(encoded == foundation, "length \(length)")
            #expect(Base64URL.decode(encoded) == bytes, "length \(length)")
            #expect(Data(base64URLEncoded: encoded[...]) == Data(bytes))
        }
    }

    @Test("Padding is optional on input, but only where it belongs")
    func padding() {
        #expect(Base64URL.decode("Zg==") == Array("f".utf8))
        #expect(Base64URL.decode("Zm8=") == Array("fo".utf8))
        #expect(Base64URL.decode("Zg=") == nil)
        #expect(Base64URL.decode("Zm9v=") == nil)
        #expect(Base64URL.decode("Zg===") == nil)
    }

    @Test("Bytes outside the alphabet, impossible lengths and non-canonical endings are refused")
    func refusals() {
        for text in ["Zm9v+", "Zm/v", "Zm 9v", "Zm9vY", "Z", "Zm9v.Yg", "Zh", "Zm9", "é"] {
            #expect(Base64URL.decode(text) == nil, "\(text)")
        }
    }
}
