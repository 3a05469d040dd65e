import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceKit
import Synchronization
import Testing

@Suite("Logs and metrics")
struct ObservabilityTests {
    @Test("log lines are JSON objects with the level, message, logger and metadata such as the request id")
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
    }
}
