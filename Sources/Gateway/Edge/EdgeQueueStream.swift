import Metrics
import NIOCore
import NIOHTTP1
import Queue

/// One live stream the edge serves (``EdgeQueueStreams``), on its connection's event loop: the
/// events of ``QueueHTTP/events(_:_:)``, in the same words and at the same moments, without a
/// task held for the stream's life. Between looks it is a wait filed on its room
/// (``RoomSnapshots/watch(event:after:until:at:ahead:_:)``); a look answered by the snapshot
/// runs on the loop, and only a Redis read (a stale snapshot, a visitor at the head of the line)
/// or a pass to sign runs as a short task.
///
/// A problem before the first event is an ordinary problem answer. The stream ends with
/// `admitted` or `lost`, when the client goes, or at once on graceful shutdown (its client
/// reconnects, or polls as the waiting-room page does, to a gateway still serving).
final class EdgeQueueStream {
    let handler: EdgeHandler
    let context: ChannelHandlerContext
    /// The request as its answers need it: method, version and whether the connection is kept;
    /// none of its fields, which a crowd of streams would otherwise hold on to.
    let head: HTTPRequestHead
    let requestID: String
    let request: EdgeQueueStreams.Request
    /// Whether the whole request has been read.
    var requestEnded = false
    private let queue: QueueHTTP
    private let started = ContinuousClock.now
    private var version: RoomVersion
    private var lastSent: QueuePlaceBody?
    private var lastWrite = ContinuousClock.now
    /// The wait filed on the room, while there is one.
    private var watching: UInt64?
    private var open: Metrics.Meter?
    private var headWritten = false
    private(set) var ended = false

    init(handler: EdgeHandler, context: ChannelHandlerContext, head: HTTPRequestHead, request: EdgeQueueStreams.Request) {
        self.handler = handler
        self.context = context
        self.head = HTTPRequestHead(
            version: head.version, method: head.method, uri: String(head.uri.pathWithoutQuery),
            headers: head.isKeepAlive ? HTTPHeaders() : ["connection": "close"]
        )
        self.requestID = ProxyHeaders.requestID(from: head.headers.first(name: "x-request-id"))
        self.request = request
        self.queue = handler.core.queueStreams.queue
        self.version = queue.snapshots.version(event: request.event)
    }

    private var eventLoop: any EventLoop { context.eventLoop }

    /// Looks at the visitor's place for the first time.
    func start() {
        look()
    }

    /// Looks at the visitor's place: from the room's snapshot when it places them, else from Redis.
    private func look() {
        if let place = queue.snapshots.placeIfFresh(event: request.event, visitor: request.visitor, spot: request.spot) {
            show(place)
            return
        }
        run { queue, request in
            try await queue.currentPlace(event: request.event, visitor: request.visitor, spot: request.spot)
        } then: { stream, result in
            switch result {
            case .success(let place): stream.show(place)
            case .failure(let error): stream.lost(error)
            }
        }
    }

    /// Shows `place`: an admission once its pass is signed.
    private func show(_ place: VisitorPlace) {
        guard !ended else { return }
        writeHead()
        if let body = QueuePlaceBody(unsigned: place) {
            show(body, of: place)
            return
        }
        run { queue, request in
            try await queue.body(event: request.event, visitor: request.visitor, place: place)
        } then: { stream, result in
            switch result {
            case .success(let body): stream.show(body, of: place)
            case .failure: stream.abort()
            }
        }
    }

    /// Runs `work` as a short task, then `then` back on the stream's event loop.
    private func run<Value: Sendable>(
        _ work: @escaping @Sendable (QueueHTTP, EdgeQueueStreams.Request) async throws -> Value,
        then: @escaping (EdgeQueueStream, Result<Value, any Error>) -> Void
    ) {
        let queue = queue
        let request = request
        let stream = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.makeFutureWithTask { try await work(queue, request) }.assumeIsolated().whenComplete { then(stream.value, $0) }
    }

    /// Sends `body` when it differs from the last event (or the heartbeat is due), then ends the
    /// stream with an admission or waits on the room until the next look.
    private func show(_ body: QueuePlaceBody, of place: VisitorPlace) {
        guard !ended else { return }
        let admitted = body.status == "admitted"
        // A client that does not read is sent no status it would only find stale: the next look tells it.
        if body != lastSent || .now - lastWrite >= QueueHTTP.heartbeat, admitted || context.channel.isWritable {
            write(QueueHTTP.streamEvent(body))
            lastSent = body
            lastWrite = .now
        }
        if admitted {
            end()
            return
        }
        let stream = NIOLoopBound(self, eventLoop: eventLoop)
        let eventLoop = eventLoop
        watching = queue.snapshots.watch(
            event: request.event, after: version, until: .now + QueueHTTP.lookAgain(after: place, body: body), at: request.spot,
            ahead: body.ahead ?? .max
        ) { version in
            eventLoop.execute { stream.value.woke(at: version) }
        }
    }

    private func woke(at version: RoomVersion) {
        watching = nil
        guard !ended else { return }
        self.version = version
        look()
    }

    /// The visitor cannot be placed: a problem answer before the stream starts, `lost` after.
    private func lost(_ error: any Error) {
        guard !ended else { return }
        guard headWritten else {
            refuse(EdgeResponse.problem(for: error, path: head.uri[...]))
            return
        }
        guard let error = error as? QueueError else { return abort() }
        write(QueueHTTP.lostEvent(error))
        end()
    }

    private func writeHead() {
        guard !headWritten else { return }
        headWritten = true
        var fields = HTTPHeaders()
        fields.add(name: "content-type", value: "text/event-stream")
        fields.add(name: "cache-control", value: "no-cache")
        fields.add(name: "x-accel-buffering", value: "no")
        let response = ClientResponseHead(
            answering: head, status: .ok, fields: fields, requestID: requestID, close: false, allocator: context.channel.allocator
        )
        handler.wire.write(response.buffer, flush: true)
        handler.core.queueStreams.metrics.record(since: started)
        handler.core.traffic.record(.ok, route: EdgeQueueStreams.routeName, duration: .now - started)
        handler.core.accessLog?.record(
            method: head.method.rawValue, target: head.uri, route: EdgeQueueStreams.routeName, status: 200, duration: .now - started,
            client: handler.client(of: head).address, requestID: requestID
        )
        open = QueueHTTP.openStreams(event: request.event)
        open?.increment()
    }

    /// Writes one event as a chunk of the response body.
    private func write(_ event: ByteBuffer) {
        var chunk = context.channel.allocator.buffer(capacity: event.readableBytes + 12)
        chunk.writeString(String(event.readableBytes, radix: 16))
        chunk.writeStaticString("\r\n")
        chunk.writeImmutableBuffer(event)
        chunk.writeStaticString("\r\n")
        handler.wire.write(chunk, flush: true)
    }

    /// A whole problem answer instead of a stream.
    private func refuse(_ response: EdgeResponse) {
        ended = true
        handler.writeWhole(response, answering: head, requestID: requestID, close: false, route: EdgeQueueStreams.routeName, took: .now - started)
        handler.served(requestEnded: requestEnded, close: !head.isKeepAlive)
    }

    /// Ends the stream with the body's last chunk; the connection then serves its next request
    /// (or closes, when the request asked to or the server is shutting down).
    func end() {
        guard !ended else { return }
        stop()
        handler.wire.write(ByteBuffer(staticString: "0\r\n\r\n"), flush: true)
        handler.served(requestEnded: requestEnded, close: !head.isKeepAlive)
    }

    /// Ends the stream without its last chunk and closes the connection: the client sees the
    /// stream broken off, as when the router's stream fails.
    private func abort() {
        guard !ended else { return }
        stop()
        handler.served(requestEnded: requestEnded, close: true)
    }

    /// The connection went: stops waiting, writes nothing.
    func cancel() {
        guard !ended else { return }
        stop()
    }

    private func stop() {
        ended = true
        if let watching { queue.snapshots.stopWatching(event: request.event, id: watching) }
        watching = nil
        open?.decrement()
        open = nil
    }
}
