import Foundation
import NIOHTTP1
import Testing

@testable import Gateway
import ServiceKit

@Suite("The Date field of the edge's answers")
struct HTTPDateTests {
    @Test("IMF-fixdate in GMT, as RFC 9110 writes it", arguments: [
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (1_709_251_199, "Thu, 29 Feb 2024 23:59:59 GMT"),
        (4_102_444_800, "Fri, 01 Jan 2100 00:00:00 GMT"),
    ])
    func format(second: Int, text: String) {
        #expect(HTTPDate.text(of: second) == text)
    }

    @Test("now is the current second")
    func now() throws {
        let parser = DateFormatter()
        parser.locale = Locale(identifier: "en_US_POSIX")
        parser.timeZone = TimeZone(identifier: "GMT")
        parser.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let parsed = try #require(parser.date(from: HTTPDate.now))
        #expect(abs(parsed.timeIntervalSinceNow) < 2)
    }
}
