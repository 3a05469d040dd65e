import NIOCore

/// The route's policy chain. Policies start in order; one whose verdict waits on Redis lets the
/// next ones start at once when it ``EdgePolicy/overlapsLaterPolicies``, so that a rate limit and
/// an idempotency claim share one flush and one round trip. Verdicts apply in chain order: the
/// first refusal answers, and what later policies took is given back by their settlements.
extension EdgeExchange {
    /// Starts the policies from ``nextPolicy`` until one must be waited for, the body is needed,
    /// or the chain is done; then, once every verdict is in, calls the upstream (or the router).
    /// A verdict that comes while policies are being started lets the running call go on.
    func runPolicies() {
        guard !startingPolicies else { return }
        startingPolicies = true
        defer { startingPolicies = false }
        waitsForBody = false
        let policies = route.policies
        while phase == .policies, nextPolicy < policies.count {
            let policy = policies[nextPolicy]
            if policy.readsBody, !requestEnded { return waitForBody() }
            let verdict = policy.admit(self)
            nextPolicy += 1
            switch verdict {
            case .proceed:
                continue
            case .pending(let future):
                awaitVerdict(future)
                if !policy.overlapsLaterPolicies, !verdictsAhead.isEmpty { return }
            case .reject, .respond:
                // Later policies are not started: this verdict answers unless an earlier one does.
                guard verdictsAhead.isEmpty else { return awaitVerdict(eventLoop.makeSucceededFuture(verdict)) }
                return answer(verdict)
            }
        }
        guard phase == .policies, verdictsAhead.isEmpty else { return }
        callUpstream()
    }

    /// Every policy proceeded: the local answer, the router, or an upstream once the body is whole.
    private func callUpstream() {
        if route.isLocal, let answer = handler.core.localAnswer(head, route: route, on: eventLoop) {
            return answer.assumeIsolated().whenComplete { result in
                guard self.phase == .policies else { return }
                var response: EdgeResponse
                switch result {
                case .success(let answer): response = answer
                case .failure(let error): response = EdgeResponse.problem(for: error, path: self.path)
                }
                response.add(self.responseFields)
                self.respondWhole(response, outcome: .answered(status: response.status, headers: response.headers, body: nil), close: false)
            }
        }
        if route.isLocal {
            phase = .finished
            return handler.passToRouter(head: head, body: bodyParts, requestEnded: requestEnded, exchange: self)
        }
        // The signature covers the body: an upstream gets a request once it has arrived whole.
        if !requestEnded { return waitForBody() }
        phase = .connecting
        connect(fresh: false)
    }

    /// Goes on once the request's end arrives; reads held for backpressure resume, as nothing
    /// else will take the body meanwhile (`max_body_bytes` bounds it).
    private func waitForBody() {
        waitsForBody = true
        if holdsClientReads {
            holdsClientReads = false
            handler.resumeReading()
        }
    }

    /// Queues a verdict behind those already awaited; the first in the queue is watched.
    private func awaitVerdict(_ verdict: EventLoopFuture<EdgeVerdict>) {
        verdictsAhead.append(verdict)
        if verdictsAhead.count == 1 { watchFirstVerdict() }
    }

    /// Applies the first queued verdict when it comes, then the next; the chain goes on when none is left.
    private func watchFirstVerdict() {
        verdictsAhead.first!.assumeIsolated().whenComplete { result in
            guard self.phase == .policies else { return }
            self.verdictsAhead.removeFirst()
            switch result {
            case .success(.proceed):
                break
            case .success(.pending(let later)):
                self.verdictsAhead.prepend(later)
                return self.watchFirstVerdict()
            case .success(let refusal):
                return self.answer(refusal)
            case .failure(let error):
                return self.fail(error, outcome: .refused)
            }
            if self.verdictsAhead.isEmpty { self.runPolicies() } else { self.watchFirstVerdict() }
        }
    }

    /// Answers a refusal (or an idempotent replay) in the policies' stead.
    private func answer(_ verdict: EdgeVerdict) {
        switch verdict {
        case .reject(let error):
            fail(error, outcome: .refused)
        case .respond(let response):
            respondWhole(response, outcome: .refused, close: false)
        case .proceed, .pending:
            preconditionFailure("only a refusal or a replay answers for the policies")
        }
    }
}

/// The verdicts an exchange awaits, in chain order. The first is held inline: a chain mostly
/// awaits one verdict at a time (a rate limit's Redis reply), which then allocates no array.
struct PendingVerdicts {
    private(set) var first: EventLoopFuture<EdgeVerdict>?
    private var rest: [EventLoopFuture<EdgeVerdict>] = []

    var isEmpty: Bool { first == nil }

    var count: Int { first == nil ? 0 : 1 + rest.count }

    /// Queues a verdict behind the others.
    mutating func append(_ verdict: EventLoopFuture<EdgeVerdict>) {
        if first == nil { first = verdict } else { rest.append(verdict) }
    }

    /// Queues a verdict before the others (one that came back as pending again).
    mutating func prepend(_ verdict: EventLoopFuture<EdgeVerdict>) {
        if let first { rest.insert(first, at: 0) }
        first = verdict
    }

    /// Drops the first verdict; the next becomes first.
    mutating func removeFirst() {
        first = rest.isEmpty ? nil : rest.removeFirst()
    }
}
