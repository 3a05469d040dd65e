import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A real HTTP server on a loopback port, standing for a service behind the gateway.
///
/// `/api/echo/**` answers with what it received; `/api/slow` takes two seconds;
/// `/api/events/{event}/buy` answers 201 after `delay` and counts its calls;
/// `/api/fail` answers 500; `/api/stream` sends three chunks 300 ms apart, `/api/endless` one every
/// 200 ms for a minute. Echoes name the
/// upstream's port and the gateway's port on the connection they came in on.
final class UpstreamServer: Sendable {
    struct Echo: ResponseCodable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: String
        /// The port of the connection the request came in on (the gateway's end of it).
        var peerPort: Int?
        /// The port of the upstream that answered.
        var upstreamPort: Int?
    }

    /// A context that knows the connection's peer.
    struct Context: RequestContext, RemoteAddressRequestContext {
        var coreContext: CoreRequestContextStorage
        let remoteAddress: SocketAddress?
        let localPort: Int?

        init(source: ApplicationRequestContextSource) {
            self.coreContext = .init(source: source)
            self.remoteAddress = source.channel.remoteAddress
            self.localPort = source.channel.localAddress?.port
        }
    }

    let port: Int
    private let counter: Counter
    private let task: Task<Void, any Error>

    var url: String { "http://127.0.0.1:\(port)" }
    var callCount: Int { counter.value }

    private init(port: Int, counter: Counter, task: Task<Void, any Error>) {
        self.port = port
        self.counter = counter
        self.task = task
    }

    /// Runs `body` with an upstream started for it (`/api/events/{event}/buy` answering after
    /// `delay`); the upstream is stopped when `body` returns or throws.
    static func with<Result>(delay: Duration = .zero, _ body: (UpstreamServer) async throws -> Result) async throws -> Result {
        let upstream = try await start(delay: delay)
        do {
            let result = try await body(upstream)
            await upstream.stop()
            return result
        } catch {
            await upstream.stop()
            throw error
        }
    }

    private static func start(delay: Duration) async throws -> UpstreamServer {
        let counter = Counter()
        let router = Router(context: Context.self)
        router.on("/api/echo/**", method: .get) { request, context in try await echo(request, context, counter) }
        router.on("/api/echo/**", method: .post) { request, context in try await echo(request, context, counter) }
        router.on("/api/echo/**", method: .head) { request, context in try await echo(request, context, counter) }
        router.on("/api/echo/**", method: .trace) { request, context in try await echo(request, context, counter) }
        router.get("/api/stream") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                for index in 1...3 {
                    try await writer.write(ByteBuffer(string: "data: \(index)\n\n"))
                    if index < 3 { try await Task.sleep(for: .milliseconds(300)) }
                }
                try await writer.finish(nil)
            })
        }
        router.get("/api/endless") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                for index in 1...300 {
                    try await writer.write(ByteBuffer(string: "data: \(index)\n\n"))
                    try await Task.sleep(for: .milliseconds(200))
                }
                try await writer.finish(nil)
            })
        }
        router.get("/api/slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(2))
            return "late"
        }
        router.post("/api/events/:event/buy") { request, context -> Response in
            counter.increment()
            try await Task.sleep(for: delay)
            let body = try await request.body.collect(upTo: 1 << 20)
            let json = #"{"bought":"\#(try context.parameters.require("event"))","echo":\#(String(buffer: body).isEmpty ? "null" : String(buffer: body)),"call":\#(counter.value)}"#
            return Response(status: .created, headers: [.contentType: "application/json", .location: "/orders/\(counter.value)"], body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        router.post("/api/fail") { _, _ -> Response in
            counter.increment()
            return Response(status: .internalServerError)
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "upstream")
        )
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw CancellationError() }
        return UpstreamServer(port: port, counter: counter, task: task)
    }

    private func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    private static func echo(_ request: Request, _ context: Context, _ counter: Counter) async throws -> Echo {
        counter.increment()
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = headers[field.name.canonicalName].map { $0 + ", " + field.value } ?? field.value }
        let body = try await request.body.collect(upTo: 4 << 20)
        return Echo(
            method: request.method.rawValue, path: request.uri.description, headers: headers, body: String(buffer: body),
            peerPort: context.remoteAddress?.port, upstreamPort: context.localPort
        )
    }

    /// Calls answered by the counted routes.
    final class Counter: Sendable {
        private let calls = Atomic<Int>(0)
        func increment() { calls.add(1, ordering: .relaxed) }
        var value: Int { calls.load(ordering: .relaxed) }
    }
}
