import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An RFC 9457 problem, sent as `application/problem+json`.
public struct ProblemDetails: Error, Sendable, Codable, Hashable, HTTPResponseError {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    public var type: String
    public var title: String
    public var statusCode: Int
    public var detail: String?
    public var instance: String?
    /// The request field at fault, as a dotted path, for problems about one field.
    public var field: String?
    /// Extra header fields for the response, such as `Retry-After` or `WWW-Authenticate`.
    public var headers: HTTPFields

    enum CodingKeys: String, CodingKey {
        case type, title, statusCode = "status", detail, instance, field
    }

    public init(
        status: HTTPResponse.Status,
        type: String = "about:blank",
        title: String? = nil,
        detail: String? = nil,
        headers: HTTPFields = [:]
    ) {
        self.type = type
        self.title = title ?? status.reasonPhrase
        self.statusCode = status.code
        self.detail = detail
        self.instance = nil
        self.field = nil
        self.headers = headers
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.type = try container.decodeIfPresent(String.self, forKey: .type) ?? "about:blank"
        self.title = try container.decode(String.self, forKey: .title)
        self.statusCode = try container.decode(Int.self, forKey: .statusCode)
        self.detail = try container.decodeIfPresent(String.self, forKey: .detail)
        self.instance = try container.decodeIfPresent(String.self, forKey: .instance)
        self.field = try container.decodeIfPresent(String.self, forKey: .field)
        self.headers = [:]
    }

    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let (headers, body) = rendered(instance: request.uri.path)
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// The fields and `application/problem+json` body of this problem, `instance` set to
    /// `instance` where it has none.
    public func rendered(instance: String) -> (HTTPFields, ByteBuffer) {
        var problem = self
        problem.instance = problem.instance ?? instance
        let body = (try? Self.encoder.encode(problem)) ?? Data()
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return (headers, ByteBuffer(bytes: body))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// An error that knows which problem it is for an HTTP client.
///
/// Services' typed errors conform to this; `ProblemMiddleware` renders them all in one place.
public protocol ProblemConvertible: Error {
    var problem: ProblemDetails { get }
}
