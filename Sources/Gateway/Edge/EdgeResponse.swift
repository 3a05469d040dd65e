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

    /// Adds the policies' response fields after the headers.
    mutating func add(_ fields: EdgeResponseFields) {
        fields.add(to: &headers)
    }
}
