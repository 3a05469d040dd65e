import Foundation
import Hummingbird
import NIOCore

extension Response {
    /// A `200 application/json` response with `value` encoded (keys sorted, for stable output).
    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value)))
        )
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, for stable stored and signed payloads.
    public static var sortedKeys: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}

extension RequestContext {
    /// `201 Created` with `value` encoded by this context's encoder and `Location: location`.
    public func created(_ value: some ResponseEncodable, at location: String, for request: Request) throws -> Response {
        var response = try responseEncoder.encode(value, from: request, context: self)
        response.status = .created
        response.headers[.location] = location
        return response
    }
}
