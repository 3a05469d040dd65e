import Foundation

/// A request body that names every field it takes: ``Hummingbird/Request/decodeBody(as:context:)``
/// refuses a body holding any other, with 400 `invalid-body` naming it. An operator's
/// `{"relase_rate": 50}` would otherwise be answered 200 with nothing changed.
///
/// Only request bodies adopt it, at the edge of the API: the types' own decoding stays lenient,
/// so what they read back from storage may carry fields a later version adds.
public protocol KnownFields {
    /// The fields the body may hold. A nested object's fields are listed under its field's name
    /// (`adaptive.min_rate`), an array's elements' under `name.*` (`zones.*.capacity`).
    static var knownFields: Set<String> { get }
}

extension KnownFields {
    /// The names `keys` give, each under `prefix` (`"adaptive."`) when one is given.
    public static func fields<Keys: CodingKey & CaseIterable>(of keys: Keys.Type, under prefix: String = "") -> Set<String> {
        Set(keys.allCases.map { prefix + $0.stringValue })
    }
}

/// Finds the first field of a JSON body that a ``KnownFields`` type does not take.
public enum UnknownFields {
    /// The dotted path (`zones.2.colour`) of the first field of `json` not in `known`, nil when
    /// every field is known or the body is not a JSON object (the decoder then says what is wrong).
    public static func first(in json: Data, known: Set<String>) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { return nil }
        return first(in: object, pattern: "", path: "", known: known)
    }

    private static func first(in object: [String: Any], pattern: String, path: String, known: Set<String>) -> String? {
        for key in object.keys.sorted() {
            let keyPattern = pattern + key
            let keyPath = path + key
            guard known.contains(keyPattern) else { return keyPath }
            switch object[key] {
            case let nested as [String: Any] where takesFields(under: keyPattern + ".", known):
                if let unknown = first(in: nested, pattern: keyPattern + ".", path: keyPath + ".", known: known) { return unknown }
            case let elements as [Any] where takesFields(under: keyPattern + ".*.", known):
                for (index, element) in elements.enumerated() {
                    guard let nested = element as? [String: Any] else { continue }
                    if let unknown = first(in: nested, pattern: keyPattern + ".*.", path: keyPath + ".\(index).", known: known) { return unknown }
                }
            default:
                continue
            }
        }
        return nil
    }

    /// Whether `known` lists fields under `prefix` (`adaptive.`, `zones.*.`), an array's elements'
    /// fields not counting as an object's.
    private static func takesFields(under prefix: String, _ known: Set<String>) -> Bool {
        known.contains { $0.hasPrefix(prefix) && (prefix.hasSuffix("*.") || !$0.dropFirst(prefix.count).hasPrefix("*.")) }
    }
}
