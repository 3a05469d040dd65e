import Testing

@testable import Gateway

@Suite("An upstream answer whose body breaks off")
struct UpstreamBrokenBodyTests {
    @Test("a chunk that does not parse: the client gets the upstream's head, then the connection closes; nothing else is served on it")
    func badChunk() async throws {
        let (text, took) = try await UpstreamInterimTests.answers(upstream: "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\n")
        #expect(text.hasPrefix("HTTP/1.1 201 Created\r\n"), "the status the upstream answered, not an empty reply: \(text)")
        #expect(text.contains("transfer-encoding: chunked") && text.contains("\r\n\r\n2\r\nok\r\n"), "and the body it sent before the bad chunk: \(text)")
        #expect(!text.hasSuffix("0\r\n\r\n") && !text.contains(EdgeHealth.body), "no end of body, and nothing served after it: \(text)")
        #expect(took < .seconds(1), "not left to the route's timeout: \(took)")
    }
}
