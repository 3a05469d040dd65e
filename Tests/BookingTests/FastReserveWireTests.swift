import Booking
import Foundation
import HTTPTypes
import NIOCore
import NIOPosix
import ServiceKit
import ServiceTestSupport
import Synchronization
import Testing

@Suite("Fast answers written as bytes: their framing on the wire, and the connection's life after them")
struct FastReserveWireTests {
    /// One answer read off the wire: status, fields (lower-cased names) and body.
    struct WireAnswer {
        var status: Int
        var fields: [(name: String, value: String)]
        var body: [UInt8]

        func field(_ name: String) -> String? { fields.first { $0.name == name }?.value }
    }

    /// Reads every answer in `bytes`, each framed by its Content-Length; nil when anything is
    /// left over or malformed (a stray byte between answers, a body longer or shorter than said).
    static func answers(in bytes: [UInt8]) -> [WireAnswer]? {
        var answers: [WireAnswer] = []
        var at = 0
        let crlfcrlf: [UInt8] = Array("\r\n\r\n".utf8)
        while at < bytes.count {
            guard let end = (at..<(bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == crlfcrlf }) else { return nil }
            let lines = String(decoding: bytes[at..<end], as: UTF8.self).components(separatedBy: "\r\n")
            let statusLine = lines[0].split(separator: " ", maxSplits: 2)
            guard statusLine.count == 3, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else { return nil }
            var fields: [(name: String, value: String)] = []
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { return nil }
                fields.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            guard let length = fields.first(where: { $0.name == "content-length" }).flatMap({ Int($0.value) }),
                  end + 4 + length <= bytes.count,
                  !fields.contains(where: { $0.name == "transfer-encoding" })
            else { return nil }
            answers.append(WireAnswer(status: status, fields: fields, body: Array(bytes[(end + 4)..<(end + 4 + length)])))
            at = end + 4 + length
        }
        return answers
    }

    static func request(_ client: GatewaySigningClient, event: String, user: String, close: Bool = false) -> String {
        let uri = "/api/v1/bookings/reserve"
        let body = FastReserveTests.reserveBody(event, quantity: 1)
        var text = "POST \(uri) HTTP/1.1\r\nHost: localhost\r\n"
        for field in client.signed(TestIdentity.fields(user, roles: ["customer"]), method: .post, uri: uri, body: body) {
            text += "\(field.name): \(field.value)\r\n"
        }
        text += "Content-Length: \(body.readableBytes)\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n" + String(buffer: body)
        return text
    }

    @Test("pipelined fast answers and router answers are each framed by their length, with nothing between them")
    func framing() async throws {
        try await FastReserveTests.withLiveService(seats: 10) { client, event, port in
            var requests = Self.request(client, event: event, user: "wire-1")
            requests += "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
            requests += Self.request(client, event: event, user: "wire-2")
            requests += Self.request(client, event: event, user: "wire-3")
            requests += "GET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n"
            requests += Self.request(client, event: event, user: "wire-4", close: true)
            let received = try await FastReserveTests.exchange(port: port, requests)
            let answers = try #require(Self.answers(in: Array(received.utf8)), "the stream did not split into length-framed answers: \(received)")
            #expect(answers.map(\.status) == [201, 200, 201, 201, 404, 201])
            for answer in answers where answer.status == 201 {
                let booking = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
                let id = try #require(booking["booking_id"] as? String)
                #expect(answer.field("location") == "/api/v1/bookings/\(id)")
                #expect(answer.field("content-type") == "application/json; charset=utf-8")
                #expect(answer.field("server") == "booking-rush-booking")
                #expect(answer.field("date").map { $0.hasSuffix(" GMT") } == true)
                #expect(answer.fields.filter { $0.name == "content-length" }.count == 1)
            }
        }
    }

    @Test("after a fast answer on a kept-alive connection, a graceful shutdown closes the connection", .timeLimit(.minutes(1)))
    func gracefulShutdownClosesConnection() async throws {
        let ended = ConnectionEnd()
        try await FastReserveTests.withLiveService(seats: 5) { client, event, port in
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
            // The answer is read whole; the connection stays open as the service shuts down.
            let answered = AsyncStream.makeStream(of: Void.self)
            let request = ByteBuffer(string: Self.request(client, event: event, user: "wire-close"))
            Task {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(request)
                    var received: [UInt8] = []
                    var signalled = false
                    for try await chunk in inbound {
                        received += Array(chunk.readableBytesView)
                        if !signalled, Self.answers(in: received)?.count == 1 {
                            signalled = true
                            answered.continuation.yield()
                        }
                    }
                    ended.closed.withLock { $0 = true }
                    answered.continuation.finish()
                }
            }
            for await _ in answered.stream { break }
        }
        // The service's shutdown returned: it closed the connection rather than wait for an
        // answer it thought was still being written.
        try await Task.sleep(for: .milliseconds(200))
        #expect(ended.closed.withLock { $0 })
    }
}

/// Whether a test's client connection was closed by the server.
final class ConnectionEnd: Sendable {
    let closed = Mutex(false)
}
