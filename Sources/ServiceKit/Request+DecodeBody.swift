import Foundation
import Hummingbird

extension ProblemDetails {
    /// Where every project problem type lives: `https://booking-rush.dev/problems/<name>`.
    public static let typeBase = "https://booking-rush.dev/problems/"

    /// A request body that could not be read as the operation's input, naming the field at fault
    /// (a dotted path such as `zones.0.capacity`; empty when the body as a whole is not valid JSON).
    public static func invalidBody(field: String, detail: String) -> ProblemDetails {
        var problem = ProblemDetails(status: .badRequest, type: typeBase + "invalid-body", title: "Invalid request body", detail: detail)
        problem.field = field
        return problem
    }

    /// The problem for a decoding failure of a request body.
    public static func invalidBody(_ error: DecodingError) -> ProblemDetails {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return invalidBody(field: field, detail: "The field `\(field)` is required.")
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return invalidBody(field: field, detail: "The field `\(field)` must be \(describe(type)), not null.")
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return invalidBody(field: field, detail: "The field `\(field)` must be \(describe(type)).")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty { return invalidBody(field: "", detail: "The body is not valid JSON, or a number in it is not of the documented kind.") }
            return invalidBody(field: field, detail: "The field `\(field)` has an invalid value.")
        @unknown default:
            return invalidBody(field: "", detail: "The body could not be read.")
        }
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

extension Request {
    /// The body decoded as `type`; a malformed body or field is a 400 `invalid-body` problem that
    /// names the field, never Hummingbird's generic message.
    public func decodeBody<Body: Decodable>(as type: Body.Type, context: some RequestContext) async throws -> Body {
        do {
            return try await context.requestDecoder.decode(type, from: self, context: context)
        } catch let error as DecodingError {
            throw ProblemDetails.invalidBody(error)
        }
    }
}
