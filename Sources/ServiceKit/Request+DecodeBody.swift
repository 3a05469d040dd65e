import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

extension Request {
    /// The body decoded as `type`; a malformed body or field is a 400 `invalid-body` problem that
    /// names the field, never Hummingbird's generic message, and so is a key given twice with
    /// different values (``JSONRepeatedKeys``), which parsers read differently, and a field a
    /// ``KnownFields`` body does not take.
    public func decodeBody<Body: Decodable>(as type: Body.Type, context: some RequestContext) async throws -> Body {
        var request = self
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        if let refusal = ProblemDetails.refusal(ofBody: Data(buffer: body), as: type) { throw refusal }
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

extension ProblemDetails {
    /// What ``Request/decodeBody(as:context:)`` refuses in a JSON body before decoding it as
    /// `type`: a top-level key given twice with different values (``JSONRepeatedKeys``), then a
    /// field a ``KnownFields`` type does not take; nil when there is neither. For a caller that
    /// decodes the bytes itself, so that it refuses what the router would.
    public static func refusal<Body>(ofBody json: Data, as type: Body.Type) -> ProblemDetails? {
        if let key = JSONRepeatedKeys.disagreeing(in: json).first { return .repeatedField(key) }
        if let known = (type as? any KnownFields.Type)?.knownFields, let field = UnknownFields.first(in: json, known: known) {
            return .unknownField(field)
        }
        return nil
    }
}
