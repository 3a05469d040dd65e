import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import ServiceKit

/// A whole response the gateway writes itself: a problem, or an idempotent replay.
struct EdgeResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer

    /// The problem for `error`: typed errors by their `ProblemConvertible` mapping, anything
    /// else a 500 that leaks nothing.
    static func problem(for error: any Error, path: Substring) -> EdgeResponse {
        var problem: ProblemDetails
        switch error {
        case let error as ProblemDetails: problem = error
        case let error as any ProblemConvertible: problem = error.problem
        default: problem = ProblemDetails.unhandled
        }
        problem.instance = problem.instance ?? String(path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(problem)) ?? Data()
        var headers = HTTPHeaders(problem.headers.map { ($0.name.rawName, $0.value) })
        headers.replaceOrAdd(name: "content-type", value: "application/problem+json")
        headers.replaceOrAdd(name: "content-length", value: String(body.count))
        return EdgeResponse(status: HTTPResponseStatus(statusCode: problem.statusCode), headers: headers, body: ByteBuffer(bytes: body))
    }

    /// Adds `fields` (HTTP types) to the headers.
    mutating func add(_ fields: HTTPFields) {
        for field in fields { headers.add(name: field.name.rawName, value: field.value) }
    }
}

extension HTTPResponseHead {
    /// The head of the edge's answer to `request`: its version, the request id, a `Date` when it
    /// has none, and `Connection: close` when the connection ends after it (`keep-alive` for
    /// HTTP/1.0 otherwise).
    init(answering request: HTTPRequestHead, status: HTTPResponseStatus, headers: HTTPHeaders, requestID: String, close: Bool) {
        self.init(version: request.version, status: status, headers: headers)
        self.headers.set(name: "x-request-id", value: requestID)
        if !self.headers.contains(name: "date") { self.headers.add(name: "date", value: HTTPDate.now) }
        if close || !request.isKeepAlive {
            self.headers.set(name: "connection", value: "close")
        } else if request.version.minor == 0 {
            self.headers.set(name: "connection", value: "keep-alive")
        }
    }
}

extension HTTPHeaders {
    /// Sets the one value of `name`: replaced when the field is there, appended (without
    /// rebuilding the fields) when it is not, as it usually is not in the edge's own answers.
    mutating func set(name: String, value: String) {
        if contains(name: name) {
            replaceOrAdd(name: name, value: value)
        } else {
            add(name: name, value: value)
        }
    }
}
