import HTTPTypes
import NIOCore
import NIOHTTP1

/// The edge's own whole answers, written as bytes in one write.
extension EdgeHandler {
    /// Writes a whole answer the edge made without a route (a status poll from the snapshot,
    /// `/health`), counted in the traffic window under `route`; the rest of the request is read
    /// and dropped, unless the connection closes after it (`closing`, or as the request asks).
    func answer(_ request: HTTPRequestHead, with response: EdgeResponse, route: String, closing: Bool = false, context: ChannelHandlerContext) {
        let close = closing || quiescing || !request.isKeepAlive || continueWithheld
        let requestID = ProxyHeaders.requestID(from: request.headers.first(name: "x-request-id"))
        writeWhole(response, answering: request, requestID: requestID, close: close, route: route, took: .nanoseconds((NIODeadline.now() - lastActivity).nanoseconds))
        state = .draining
        if close {
            // Nothing pipelined behind it is served on the closing connection.
            quiescing = true
            context.close(promise: nil)
        }
    }

    /// Refuses a request whose head the edge will not route, then closes the connection: what
    /// follows such a head cannot be trusted to be framed as its sender meant.
    func refuse(_ request: HTTPRequestHead, _ error: RequestHeadError, context: ChannelHandlerContext) {
        let response = EdgeResponse.problem(for: error, path: request.uri.pathWithoutQuery)
        answer(request, with: response, route: RequestHeadError.routeName, closing: true, context: context)
    }

    /// Refuses with 508 a request for a proxied `route` that has come back to this gateway
    /// (``ProxyVia``), rather than forwarding it once more.
    func refuseLoop(_ request: HTTPRequestHead, route: EdgeRoute, context: ChannelHandlerContext) {
        let error = ProxyError.loopDetected(route: route.name)
        GatewayMetrics.proxyError(route: route.name, error)
        answer(request, with: EdgeResponse.problem(for: error, path: request.uri.pathWithoutQuery), route: route.name, context: context)
    }

    /// Writes `response` whole, in one write, answering `request`, and counts it in the traffic
    /// window under `route`.
    func writeWhole(_ response: EdgeResponse, answering request: HTTPRequestHead, requestID: String, close: Bool, route: String, took: Duration) {
        guard let context else { return }
        var head = ClientResponseHead(
            answering: request, status: response.status, fields: response.headers, requestID: requestID, close: close,
            allocator: context.channel.allocator, bodyBytes: response.body.readableBytes
        )
        head.append(body: response.body)
        wire.write(head.buffer, flush: true)
        core.traffic.record(HTTPResponse.Status(code: Int(response.status.code)), route: route, duration: took)
        core.accessLog?.record(
            method: request.method.rawValue, target: request.uri, route: route, status: Int(response.status.code), duration: took,
            client: client(of: request).address, requestID: requestID
        )
    }
}
