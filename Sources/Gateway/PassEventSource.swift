import Foundation
import HummingbirdCore
import NIOCore
import NIOHTTP1
import ServiceKit

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
    /// - Throws: ``AmbiguousEventSource`` when the header, query parameter or JSON body field is
    ///   given more than once with different values (parsers differ on which one counts).
    func event(uri: String, headers: HTTPHeaders, body: ByteBuffer?) throws(AmbiguousEventSource) -> String? {
        switch self {
        case .path(let index):
            return Self.segment(index, of: uri.pathWithoutQuery)
        case .header(let name):
            let values = headers[name]
            guard values.allSatisfy({ $0 == values.first }) else { throw AmbiguousEventSource(place: .header(name)) }
            return values.first
        case .query(let name):
            let parameters = URI(uri).queryParameters
            let values = parameters[values: Substring(name)]
            guard values.allSatisfy({ $0 == values.first }) else { throw AmbiguousEventSource(place: .query(name)) }
            return parameters.get(name)
        case .body(let field):
            guard let body else { return nil }
            return try Self.field(field, of: body)
        }
    }

    /// A string or integer field of a JSON object, read as every JSON parser reads it: a body
    /// that gives the field twice with different values is refused (``JSONRepeatedKeys``; Swift's
    /// `JSONDecoder`, which the booking service decodes with, reads the first, `JSONSerialization`
    /// here the last). Were the edge to read one event and the service another, a pass check on an
    /// event without a room would let the request through to one that queues.
    static func field(_ field: String, of body: ByteBuffer) throws(AmbiguousEventSource) -> String? {
        let data = Data(buffer: body)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        if JSONRepeatedKeys.disagreeing(in: data).contains(field) { throw AmbiguousEventSource(place: .body(field)) }
        return (object[field] as? String) ?? (object[field] as? Int).map(String.init)
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

/// A request that names the event its queue pass is checked against more than once, with
/// different values: 400 (`invalid-body` naming the field for a JSON body, `invalid-event` otherwise).
struct AmbiguousEventSource: Error, Sendable, Equatable {
    enum Place: Sendable, Equatable {
        case header(String), query(String), body(String)
    }

    let place: Place
}
