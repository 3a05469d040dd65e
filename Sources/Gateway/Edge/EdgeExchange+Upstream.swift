import NIOCore
import NIOHTTP1
import ServiceKit

extension EdgeExchange {
    /// Bodies up to this size go in the same buffer as the request head: one write, one segment.
    static let bodyCopiedIntoHead = 4096

    /// The route's timeout passed: the upstream's head did not come (504), or its answer's body
    /// has not moved since the deadline was set while the edge was reading it (an answer under
    /// way is cut: the client's connection closes). A body that moved, or that the edge holds
    /// back itself (a slow client), gets another timeout.
    func upstreamTimedOut() {
        awaitsUpstream = false
        switch phase {
        case .responding where upstreamReads != upstreamReadsAtDeadline || connection?.handler.readsPaused == true:
            awaitUpstream()
        case .forwarding, .responding:
            fail(ProxyError.upstreamTimeout(route: route.name), outcome: .failed)
        default:
            break
        }
    }

    /// Waits for the upstream's next step (its head, then each body part) until the route's timeout.
    private func awaitUpstream() {
        guard let pool = handler.pool else { return }
        awaitsUpstream = true
        upstreamReadsAtDeadline = upstreamReads
        pool.deadlines.add(self, timeout: route.timeout)
    }

    /// Stops waiting for the upstream (its answer ended, or the exchange ends otherwise).
    func stopAwaitingUpstream() {
        guard awaitsUpstream else { return }
        awaitsUpstream = false
        handler.pool?.deadlines.remove(self)
    }

    /// Borrows a connection to the next upstream to try and sends the request on it. A refused
    /// connect moves on to the route's next upstream; with none left the answer is 502. An
    /// upstream with no slot free (the route's `max_connections`) is passed over the same way, the
    /// answer then being 503 `upstream-busy`; with no descriptor to spare for the connection the
    /// answer is 503 `gateway-full` at once.
    func connect(fresh: Bool) {
        guard let pool = handler.pool else { return fail(ProxyError.upstreamUnreachable(route: route.name), outcome: .unreachable) }
        if targets == nil { targets = pool.ordered(route.targetOrder()) }
        guard let target = targets?.first else {
            if foundUpstreamBusy { return fail(ProxyError.upstreamBusy(route: route.name), outcome: .unreachable) }
            return fail(ProxyError.upstreamUnreachable(route: route.name), outcome: .unreachable)
        }
        if let slots = target.slots {
            guard slots.take() else {
                foundUpstreamBusy = true
                targets?.removeFirst()
                return connect(fresh: fresh)
            }
            heldSlots = slots
        }
        pool.connection(to: target, fresh: fresh) { result in
            switch result {
            case .success(let connection):
                guard self.phase == .connecting else {
                    self.giveBackSlot()
                    return pool.release(connection)
                }
                self.forward(on: connection)
            case .failure(let error):
                self.giveBackSlot()
                guard self.phase == .connecting else { return }
                if DescriptorsExhausted.describes(error) {
                    return self.fail(ProxyError.gatewayFull(route: self.route.name), outcome: .unreachable)
                }
                self.targets?.removeFirst()
                self.connect(fresh: fresh)
            }
        }
    }

    /// Gives back the upstream slot the exchange holds, if any.
    func giveBackSlot() {
        heldSlots?.give()
        heldSlots = nil
    }

    private func forward(on connection: UpstreamConnection) {
        phase = .forwarding
        self.connection = connection
        connection.handler.exchange = self
        let target = connection.target.basePath + head.uri
        let signed = SignedRequest(
            service: route.service, method: head.method.rawValue, target: target,
            bodyDigest: bodyBytes == 0 ? SignedRequest.emptyBodyDigest : SignedRequest.digest(of: bodyParts),
            userID: identity?.userID, roles: identity?.sortedRoles ?? [], requestID: requestID
        )
        var upstreamHead = UpstreamRequestHead(
            method: head.method, target: target, allocator: context.channel.allocator, capacity: 1024 + target.utf8.count + min(bodyBytes, Self.bodyCopiedIntoHead)
        )
        ProxyHeaders.writeUpstreamFields(
            from: head.headers, into: &upstreamHead, target: connection.target, clientAddress: clientAddress,
            peerIsTrusted: peerIsTrusted, signed: signed, signer: handler.core.signer, via: handler.core.via.value,
            dropTraceContext: trace != nil
        )
        // The whole body is in hand (the signature covers it): it goes with its length.
        if bodyBytes > 0 || head.method != .GET && head.method != .HEAD {
            upstreamHead.add(name: "content-length", value: String(bodyBytes))
        }
        trace?.inject(into: &upstreamHead)
        guard upstreamHead.isValid else {
            // An identity that cannot travel in a header field: the request is not sent.
            self.connection = nil
            handler.pool?.release(connection)
            return fail(ProxyError.upstreamFailed(route: route.name), outcome: .failed)
        }
        upstreamHead.end()
        let bodyInHead = bodyBytes <= Self.bodyCopiedIntoHead
        if bodyInHead {
            for part in bodyParts { upstreamHead.append(part) }
        }
        connection.send(method: head.method, head: upstreamHead.buffer, body: bodyInHead ? [] : bodyParts, flushes: handler.pool?.flushes)
        requestSent = true
        if holdsClientReads, connection.isWritable {
            holdsClientReads = false
            handler.resumeReading()
        }
        awaitUpstream()
    }

    func upstreamHead(_ upstream: HTTPResponseHead) {
        guard phase == .forwarding else { return }
        // The edge never forwards an upgrade (`Upgrade` is hop-by-hop): a switch of protocols is
        // an upstream gone wrong, after which no HTTP answer comes on its connection.
        if upstream.status == .switchingProtocols { return fail(ProxyError.upstreamFailed(route: route.name), outcome: .failed) }
        // A status outside 100–599 is invalid (RFC 9110 §15): passed on, `099` became a status
        // line the client could not read.
        guard (100...599).contains(upstream.status.code) else { return fail(ProxyError.upstreamFailed(route: route.name), outcome: .failed) }
        // The edge frames the body again and names no coding but chunked: a body in another
        // transfer coding (`gzip, chunked`) would reach the client still coded, and unlabelled.
        if upstream.headers.namesTransferCodingBeyondChunked { return fail(ProxyError.upstreamFailed(route: route.name), outcome: .failed) }
        if upstream.status.code < 200 { return forwardInterim(upstream) }
        phase = .responding
        awaitUpstream()
        let head = clientHead(answering: upstream)
        responseHead = head
        if collectsResponse {
            collected = context.channel.allocator.buffer(capacity: 0)
            return
        }
        let unframed = !head.headers.contains(name: "content-length") && self.head.version.minor == 0
        if unframed { closeAfterResponse = true }
        let pending = settle(.answered(status: upstream.status, headers: head.headers, body: nil))
        guard !pending.isEmpty else { return writeClient(head: head, close: unframed) }
        // Settlements (a spent pass) are final before the client hears of the answer; the
        // upstream's body waits meanwhile.
        connection?.handler.pauseReads()
        whenSettled(pending) {
            self.writeClient(head: head, close: unframed)
            for part in self.heldResponseBody { self.writeClientBody(part) }
            self.heldResponseBody = []
            if self.upstreamEnded {
                self.finish(status: upstream.status.code, close: self.closeAfterResponse)
            } else {
                self.handler.wire.flush()
                self.connection?.handler.resumeReads()
            }
        }
    }

    /// Passes an interim answer (103 Early Hints, …) on to the client at once (RFC 9110 §15.2), but
    /// not to an HTTP/1.0 client, which knows none, and not a `100 Continue`: the edge answers
    /// `Expect` itself and sends none upstream. The final head still has until the route's timeout.
    private func forwardInterim(_ upstream: HTTPResponseHead) {
        guard upstream.status != .continue, head.version.major == 1, head.version.minor >= 1 else { return }
        let fields = ProxyHeaders.downstreamHeaders(from: upstream.headers)
        handler.wire.write(ClientResponseHead.interim(upstream.status, fields: fields, allocator: context.channel.allocator), flush: true)
    }

    /// The upstream's head as the client gets it: the client's HTTP version, hop-by-hop fields
    /// dropped, the policies' response fields added. The upstream's status storage is kept when
    /// the versions match (they mostly do), so this allocates only the new fields.
    private func clientHead(answering upstream: HTTPResponseHead) -> HTTPResponseHead {
        var head = upstream
        if head.version != self.head.version { head.version = self.head.version }
        head.headers = ProxyHeaders.downstreamHeaders(from: upstream.headers, adding: responseFields.count)
        responseFields.add(to: &head.headers)
        return head
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard phase == .responding else { return }
        upstreamReads &+= 1
        if collected != nil {
            guard collected!.readableBytes + buffer.readableBytes <= IdempotencyStore.maximumStoredBody else {
                return fail(ProxyError.upstreamFailed(route: route.name), outcome: .failed)
            }
            collected!.writeImmutableBuffer(buffer)
            return
        }
        guard clientHeadWritten else { return heldResponseBody.append(buffer) }
        writeClientBody(buffer)
        if !context.channel.isWritable {
            handler.wire.flush()
            connection?.handler.pauseReads()
        }
    }

    func upstreamReadComplete() {
        if phase == .responding, clientHeadWritten { handler.wire.flush() }
    }

    func upstreamEnd() {
        guard phase == .responding, let connection, let responseHead else { return }
        stopAwaitingUpstream()
        self.connection = nil
        if requestSent, connection.handler.isKeepAlive {
            handler.pool?.release(connection)
        } else {
            connection.close()
        }
        upstreamEnded = true
        guard let body = collected else {
            guard clientHeadWritten else { return }
            return finish(status: responseHead.status.code, close: closeAfterResponse)
        }
        var whole = EdgeResponse(status: responseHead.status, headers: responseHead.headers, body: body)
        whole.headers.remove(name: "transfer-encoding")
        respondWhole(whole, outcome: .answered(status: responseHead.status, headers: responseHead.headers, body: body), close: false)
    }

    /// The upstream connection closed before its answer ended. A reused keep-alive connection
    /// that closed before answering is retried once on a fresh one when the whole request is in hand.
    func upstreamClosed() {
        guard phase == .forwarding || phase == .responding else { return }
        let reused = connection?.reused ?? false
        connection = nil
        stopAwaitingUpstream()
        if phase == .forwarding, reused, !retried, responseHead == nil {
            retried = true
            phase = .connecting
            return connect(fresh: true)
        }
        fail(ProxyError.upstreamFailed(route: route.name), outcome: .failed)
    }
}
