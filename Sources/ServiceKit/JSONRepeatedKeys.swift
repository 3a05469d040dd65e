import Foundation

/// Keys a JSON object gives more than once with different values.
///
/// JSON leaves a repeated key to the parser, and parsers disagree: Swift's `JSONDecoder` reads
/// the first value, `JSONSerialization`, Python, Go and JavaScript the last. A body read by two
/// of them (the gateway checks a field, a service acts on it) can mean two things, so it is
/// refused rather than read. Values are compared as written: the same value spelt two ways
/// (`1` and `1.0`) counts as different. One pass over the bytes, with no parsing beyond what
/// finding the top-level members takes; a key written with an escape is decoded.
public enum JSONRepeatedKeys {
    /// The top-level keys of `json` given more than once with different values, in the order
    /// of their second appearance; empty when there is none or `json` is not a well-formed object.
    public static func disagreeing(in json: UnsafeRawBufferPointer) -> [String] {
        var scanner = Scanner(bytes: json)
        guard let members = scanner.topLevelMembers(), members.count > 1 else { return [] }
        var first: [String: Range<Int>] = [:]
        var last: [String: Range<Int>] = [:]
        var repeated: [String] = []
        for member in members {
            if first[member.key] == nil {
                first[member.key] = member.value
            } else if !repeated.contains(member.key) {
                repeated.append(member.key)
            }
            last[member.key] = member.value
        }
        return repeated.filter { key in
            guard let a = first[key], let b = last[key] else { return false }
            return !json[a].elementsEqual(json[b])
        }
    }

    /// ``disagreeing(in:)`` of a body's bytes.
    public static func disagreeing(in json: Data) -> [String] {
        json.withUnsafeBytes { disagreeing(in: $0) }
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        /// Each member of the top-level object: its key and the byte range of its value.
        mutating func topLevelMembers() -> [(key: String, value: Range<Int>)]? {
            skipWhitespace()
            guard take(UInt8(ascii: "{")) else { return nil }
            var members: [(key: String, value: Range<Int>)] = []
            skipWhitespace()
            if take(UInt8(ascii: "}")) { return members }
            repeat {
                skipWhitespace()
                let keyStart = index
                guard skipString() else { return nil }
                guard let key = Self.key(bytes[keyStart..<index]) else { return nil }
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                let valueStart = index
                guard skipValue() else { return nil }
                members.append((key, valueStart..<index))
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}")) ? members : nil
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D {
                index += 1
            }
        }

        /// Past a string whose opening quote is at `index`.
        private mutating func skipString() -> Bool {
            guard take(UInt8(ascii: "\"")) else { return false }
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\\"): index += 2
                case UInt8(ascii: "\""):
                    index += 1
                    return true
                default: index += 1
                }
            }
            return false
        }

        /// Past one value: a string, an object or array (however deep), or a number or literal.
        private mutating func skipValue() -> Bool {
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: "\""):
                        guard skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    default: break
                    }
                    index += 1
                }
                return false
            default:
                let start = index
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: return index > start
                    default: index += 1
                    }
                }
                return index > start
            }
        }

        /// The text of a quoted key (escapes decoded), nil when it does not decode.
        private static func key(_ quoted: Slice<UnsafeRawBufferPointer>) -> String? {
            let inner = quoted.dropFirst().dropLast()
            guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
            return try? JSONSerialization.jsonObject(with: Data(quoted), options: .fragmentsAllowed) as? String
        }
    }
}
