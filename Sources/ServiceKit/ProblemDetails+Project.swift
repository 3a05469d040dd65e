import Foundation
import Hummingbird

extension ProblemDetails {
    /// Where every project problem type lives: `https://booking-rush.dev/problems/<name>`.
    public static let typeBase = "https://booking-rush.dev/problems/"

    /// A problem of the project's type `<slug>` (under ``typeBase``), naming the request field
    /// at fault when there is one.
    public static func project(
        _ status: HTTPResponse.Status, _ slug: String, _ title: String, detail: String? = nil, headers: HTTPFields = [:], field: String? = nil
    ) -> ProblemDetails {
        var problem = ProblemDetails(status: status, type: typeBase + slug, title: title, detail: detail, headers: headers)
        problem.field = field
        return problem
    }

    /// The 500 for an error no mapping knows: nothing about it leaks to the client.
    public static let unhandled = status(.internalServerError, detail: "The server could not complete the request.")

    /// The project's problem for a bare HTTP status (an unknown route, a wrong method, a body
    /// over the limit), so that no answer is `about:blank`.
    public static func status(_ status: HTTPResponse.Status, detail: String? = nil, headers: HTTPFields = [:]) -> ProblemDetails {
        let slug = switch status.code {
        case 400: "bad-request"
        case 404: "not-found"
        case 405: "method-not-allowed"
        case 413: "body-too-large"
        case 500: "internal-error"
        default: "http-\(status.code)"
        }
        return project(status, slug, status.reasonPhrase, detail: detail, headers: headers)
    }

    /// A request body that could not be read as the operation's input, naming the field at fault
    /// (a dotted path such as `zones.0.capacity`; empty when the body as a whole is not valid JSON).
    public static func invalidBody(
        field: String, detail: String, status: HTTPResponse.Status = .badRequest, slug: String = "invalid-body", title: String = "Invalid request body"
    ) -> ProblemDetails {
        project(status, slug, title, detail: detail, field: field)
    }

    /// A body that gives `field` more than once with different values (``JSONRepeatedKeys``).
    public static func repeatedField(_ field: String) -> ProblemDetails {
        invalidBody(field: field, detail: "The field `\(field)` is given more than once, with different values.")
    }

    /// A body holding `field`, which the operation does not take (``KnownFields``).
    public static func unknownField(_ field: String) -> ProblemDetails {
        invalidBody(field: field, detail: "The field `\(field)` is not one this request takes.")
    }

    /// The problem for a decoding failure of a request body.
    public static func invalidBody(_ error: DecodingError) -> ProblemDetails {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return invalidBody(field: field, detail: "The field `\(field)` is required.")
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return invalidBody(field: field, detail: "\(subject(field)) must be \(describe(type)), not null.")
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return invalidBody(field: field, detail: "\(subject(field)) must be \(describe(type)).")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty { return invalidBody(field: "", detail: "The body is not valid JSON, or a number in it is not of the documented kind.") }
            return invalidBody(field: field, detail: "The field `\(field)` has an invalid value.")
        @unknown default:
            return invalidBody(field: "", detail: "The body could not be read.")
        }
    }

    /// "The field `a.b`", or "The body" for the body as a whole.
    private static func subject(_ field: String) -> String {
        field.isEmpty ? "The body" : "The field `\(field)`"
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "true or false"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        default: "a value of the documented type"
        }
    }
}
