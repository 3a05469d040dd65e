import NIOHTTP1

extension HTTPHeaders {
    /// The value of the field `name` (any case), as ``HTTPFields/value(of:)`` answers it for the
    /// same request: the one value when the field appears once, every value joined by `", "` when
    /// it repeats, nil when it is absent. Builds no string when the field appears once.
    public func value(of name: String) -> String? {
        var found: String?
        for (fieldName, value) in self where Self.sameName(fieldName, name) {
            guard found == nil else { return self[name].joined(separator: ", ") }
            found = value
        }
        return found
    }

    /// Whether two field names are equal, ASCII letters compared without case.
    private static func sameName(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var a = a
        var b = b
        return a.withUTF8 { a in
            b.withUTF8 { b in
                for index in a.indices where lowered(a[index]) != lowered(b[index]) { return false }
                return true
            }
        }
    }

    private static func lowered(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }
}
