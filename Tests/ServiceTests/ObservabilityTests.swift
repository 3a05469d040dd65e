import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceKit
import Synchronization
import Testing

@Suite("Logs and metrics")
struct ObservabilityTests {
    @Test("log lines are JSON objects with the level, message, logger, the event's error and metadata such as the request id")
    func jsonLines() throws {
        let lines = Mutex<[Data]>([])
        var logger = Logger(label: "gateway") { JSONLogHandler(label: $0) { data in lines.withLock { $0.append(data) } } }
        logger[metadataKey: "request_id"] = "req-42"
        logger.info("proxied", metadata: ["route": "booking", "message": "must not replace the message"])
        logger.debug("below the level")
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.last == UInt8(ascii: "\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: String])
        #expect(object["level"] == "info")
        #expect(object["message"] == "proxied")
        #expect(object["logger"] == "gateway")
        #expect(object["request_id"] == "req-42")
        #expect(object["route"] == "booking")
        #expect(object["ts"]?.hasSuffix("Z") == true)
        #expect(object["error"] == nil)

        struct Refused: Error, CustomStringConvertible { var description: String { "upstream refused" } }
        logger.warning("upstream down", error: Refused())
        let failed = try #require(try JSONSerialization.jsonObject(with: lines.withLock { $0.last } ?? Data()) as? [String: String])
        #expect(failed["level"] == "warning")
        #expect(failed["error"] == "upstream refused")
    }
}

@Suite("Hex encoding")
struct HexTests {
    @Test func everyByte() {
        let bytes = [UInt8](0...255)
        #expect(bytes.hexString == bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined())
        #expect([UInt8]().hexString == "")
        #expect([0xDE, 0xAD, 0x00, 0x0F].hexString == "dead000f")
    }
}
