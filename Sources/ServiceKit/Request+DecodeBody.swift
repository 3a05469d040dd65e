import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

extension ProblemDetails {
    /// Where every project problem type lives: `https://booking-rush.dev/problems/<name>`.
    public static let typeBase = "https://booking-rush.dev/problems/"

    /// A request body that could not be read as the operation's input, naming the field at fault
    /// (a dotted path such as `zones.0.capacity`; empty when the body as a whole is not valid JSON).
    public static func invalidBody(
        field: String, detail: String, status: HTTPResponse.Status = .badRequest,
        type: String = typeBase + "invalid-body", title: String = "Invalid request body"
    ) -> ProblemDetails {
        var problem = ProblemDetails(status: status, type: type, title: title, detail: detail)
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
        var request = self
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        do {
            return try await context.requestDecoder.decode(type, from: request, context: context)
        } catch let error as DecodingError {
            guard case .dataCorrupted(let corrupted) = error, corrupted.codingPath.isEmpty,
                  let field = await Self.numberAtFault(in: body, of: type, head: head, context: context)
            else { throw ProblemDetails.invalidBody(error) }
            throw ProblemDetails.invalidBody(field: field, detail: "The field `\(field)` must be a number of the documented kind (a whole number where one is expected, within range).")
        }
    }

    /// The number the decoder could not take when it does not say where (a fraction or an
    /// out-of-range whole number for an integer field): each number of the body is replaced by 0
    /// in turn, and the first whose replacement gets the decoding past that error is at fault.
    /// Only on the error path, and for at most 64 numbers.
    static func numberAtFault<Body: Decodable>(
        in body: ByteBuffer, of type: Body.Type, head: HTTPRequest, context: some RequestContext
    ) async -> String? {
        guard let json = try? JSONSerialization.jsonObject(with: Data(buffer: body), options: [.fragmentsAllowed]) else { return nil }
        for path in JSONNumberPaths.paths(in: json).prefix(64) {
            guard let replaced = try? JSONSerialization.data(withJSONObject: JSONNumberPaths.replacing(path, in: json, with: 0)) else { continue }
            let trial = Request(head: head, body: RequestBody(buffer: ByteBuffer(data: replaced)))
            do {
                _ = try await context.requestDecoder.decode(type, from: trial, context: context)
                return JSONNumberPaths.dotted(path)
            } catch let error as DecodingError {
                if case .dataCorrupted(let context) = error, context.codingPath.isEmpty { continue }
                return JSONNumberPaths.dotted(path)
            } catch {
                continue
            }
        }
        return nil
    }
}

/// Paths to the numbers of a parsed JSON value (`JSONSerialization` objects).
enum JSONNumberPaths {
    enum Step { case key(String), index(Int) }

    static func paths(in value: Any, at path: [Step] = []) -> [[Step]] {
        switch value {
        case let object as [String: Any]:
            return object.keys.sorted().flatMap { paths(in: object[$0]!, at: path + [.key($0)]) }
        case let array as [Any]:
            return array.enumerated().flatMap { paths(in: $0.element, at: path + [.index($0.offset)]) }
        case let number as NSNumber where !isBoolean(number):
            return [path]
        default:
            return []
        }
    }

    static func replacing(_ path: [Step], in value: Any, with replacement: Any) -> Any {
        guard let step = path.first else { return replacement }
        switch (step, value) {
        case (.key(let key), var object as [String: Any]):
            object[key] = object[key].map { replacing(Array(path.dropFirst()), in: $0, with: replacement) }
            return object
        case (.index(let index), var array as [Any]) where array.indices.contains(index):
            array[index] = replacing(Array(path.dropFirst()), in: array[index], with: replacement)
            return array
        default:
            return value
        }
    }

    static func dotted(_ path: [Step]) -> String {
        path.map { step in
            switch step {
            case .key(let key): key
            case .index(let index): String(index)
            }
        }.joined(separator: ".")
    }

    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
