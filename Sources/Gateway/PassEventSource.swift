import Foundation
import HummingbirdCore
import NIOCore
import NIOHTTP1

/// Where a guarded route finds the event whose queue pass it requires: `event_from` of its
/// ``QueuePassPolicy``, parsed once when the route is set up rather than on every request.
enum PassEventSource: Sendable, Equatable {
    /// The Nth segment of the path (0-based).
    case path(Int)
    /// The value of a request header.
    case header(String)
    /// A query parameter.
    case query(String)
    /// A string or integer field of a JSON body.
    case body(String)

    /// The source `eventFrom` names (`path:N`, `header:Name`, `query:name`, `body:field`), or nil.
    init?(_ eventFrom: String) {
        guard let colon = eventFrom.firstIndex(of: ":") else { return nil }
        let name = String(eventFrom[eventFrom.index(after: colon)...])
        switch eventFrom[..<colon] {
        case "path":
            guard let index = Int(name), index >= 0 else { return nil }
            self = .path(index)
        case "header": self = .header(name)
        case "query": self = .query(name)
        case "body": self = .body(name)
        default: return nil
        }
    }

    /// Whether the event is read from the body (the chain waits for the whole body first).
    var readsBody: Bool {
        if case .body = self { return true }
        return false
    }

    /// The event id the request names here, or nil.
    func event(uri: String, headers: HTTPHeaders, body: ByteBuffer?) -> String? {
        switch self {
        case .path(let index):
            return Self.segment(index, of: uri.pathWithoutQuery)
        case .header(let name):
            return headers.first(name: name)
        case .query(let name):
            return URI(uri).queryParameters.get(name)
        case .body(let field):
            guard let body, let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else { return nil }
            return (object[field] as? String) ?? (object[field] as? Int).map(String.init)
        }
    }

    /// The `index`th non-empty segment of `path`, found without splitting the whole path.
    static func segment(_ index: Int, of path: Substring) -> String? {
        let bytes = path.utf8
        var seen = 0
        var start: Substring.UTF8View.Index?
        var position = bytes.startIndex
        while position < bytes.endIndex {
            if bytes[position] == UInt8(ascii: "/") {
                if let first = start {
                    if seen == index { return String(path[first..<position]) }
                    seen += 1
                    start = nil
                }
            } else if start == nil {
                start = position
            }
            position = bytes.index(after: position)
        }
        if let first = start, seen == index { return String(path[first...]) }
        return nil
    }
}
