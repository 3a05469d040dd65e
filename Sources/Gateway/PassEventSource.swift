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
    /// - Throws: ``AmbiguousEventSource`` when the header, query parameter or JSON body field is
    ///   given more than once with different values (parsers differ on which one counts).
    func event(uri: String, headers: HTTPHeaders, body: ByteBuffer?) throws(AmbiguousEventSource) -> String? {
        switch self {
        case .path(let index):
            return Self.segment(index, of: uri.pathWithoutQuery)
        case .header(let name):
            let values = headers[name]
            guard Set(values).count <= 1 else { throw AmbiguousEventSource(place: .header(name)) }
            return values.first
        case .query(let name):
            let parameters = URI(uri).queryParameters
            guard Set(parameters[values: Substring(name)]).count <= 1 else { throw AmbiguousEventSource(place: .query(name)) }
            return parameters.get(name)
        case .body(let field):
            guard let body else { return nil }
            return try Self.field(field, of: body)
        }
    }

    /// A string or integer field of a JSON object, read as every JSON parser reads it.
    ///
    /// Parsers disagree on a key given twice: `JSONSerialization`, Python, Go and JavaScript take
    /// the last value, Swift's `JSONDecoder` (which the booking service decodes with) the first.
    /// Were the edge to read one event and the service another, a pass check on an event without
    /// a room would let the request through to one that queues, so a body whose first and last
    /// values differ is refused. The first is read only when the body may hold the key twice
    /// (its quoted name twice, or an escape).
    static func field(_ field: String, of body: ByteBuffer) throws(AmbiguousEventSource) -> String? {
        let data = Data(buffer: body)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        let last = Self.text(object[field])
        guard Self.mayRepeat(field, in: body) else { return last }
        let decoder = JSONDecoder()
        decoder.userInfo[FirstField.name] = field
        let first = (try? decoder.decode(FirstField.self, from: data))?.value
        guard first == last else { throw AmbiguousEventSource(place: .body(field)) }
        return last
    }

    private static func text(_ value: Any?) -> String? {
        (value as? String) ?? (value as? Int).map(String.init)
    }

    /// Whether `body` holds `"field"` twice or any escape (a key may be spelt with one).
    private static func mayRepeat(_ field: String, in body: ByteBuffer) -> Bool {
        let quoted = Array("\"\(field)\"".utf8)
        return body.withUnsafeReadableBytes { bytes in
            if bytes.contains(UInt8(ascii: "\\")) { return true }
            var found = 0
            var index = 0
            while index + quoted.count <= bytes.count {
                if bytes[index] == quoted[0], quoted.indices.allSatisfy({ bytes[index + $0] == quoted[$0] }) {
                    found += 1
                    if found == 2 { return true }
                    index += quoted.count
                } else {
                    index += 1
                }
            }
            return false
        }
    }

    /// The value `JSONDecoder` reads for the key named in `userInfo[name]`.
    private struct FirstField: Decodable {
        static let name = CodingUserInfoKey(rawValue: "field")!
        var value: String?

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let key = Key(stringValue: decoder.userInfo[Self.name] as? String ?? "")
            let container = try decoder.container(keyedBy: Key.self)
            value = (try? container.decodeIfPresent(String.self, forKey: key)) ?? (try? container.decodeIfPresent(Int.self, forKey: key)).flatMap { $0.map(String.init) }
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

/// A request that names the event its queue pass is checked against more than once, with
/// different values: 400 (`invalid-body` naming the field for a JSON body, `invalid-event` otherwise).
struct AmbiguousEventSource: Error, Sendable, Equatable {
    enum Place: Sendable, Equatable {
        case header(String), query(String), body(String)
    }

    let place: Place
}
