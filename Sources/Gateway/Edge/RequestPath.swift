/// The path of a request target in the one form the edge routes and forwards (RFC 3986 §6.2.2):
/// percent-encoded unreserved characters decoded (`%72` → `r`), runs of slashes merged, and
/// `.` and `..` segments resolved.
///
/// Routes are matched on this form and the upstream is sent it, so both read the same path: a
/// target such as `/api/v1/bookings//reserve` or `/api/v1/bookings/x/../reserve` cannot reach a
/// handler under a route other than the one whose policies (a queue pass, a role) the edge
/// applied. A path whose `..` would climb above the root is refused, and so is a target with a
/// fragment (`#`, which a client never sends, RFC 9112 §3.2): the edge would route on
/// `/reserve#x` while an upstream that drops the fragment serves `/reserve`. Encoded reserved
/// characters (`%2F`) stay encoded: they are data, not structure.
enum RequestPath {
    /// The outcome for one target.
    enum Normalized: Equatable {
        /// The target is already normal (the common case: one scan, nothing allocated).
        case unchanged
        /// The target with its path normalized and its query as it was.
        case rewritten(String)
        /// `..` above the root.
        case invalid
        /// A `#` in the target, in its path or its query.
        case fragment
    }

    /// `target` (`path[?query]`) in normal form.
    static func normalize(_ target: String) -> Normalized {
        let bytes = target.utf8
        guard bytes.first == UInt8(ascii: "/"), bytes.withContiguousStorageIfAvailable(needsWork) ?? true else { return .unchanged }
        if bytes.contains(UInt8(ascii: "#")) { return .fragment }
        let end = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
        guard let path = resolved(decodingUnreserved(bytes[..<end])) else { return .invalid }
        var result = String(decoding: path, as: UTF8.self)
        result += Substring(bytes[end...])
        return result == target ? .unchanged : .rewritten(result)
    }

    /// Whether the path of `target` (up to its `?`) has a `//`, a `.` or `..` segment, or a `%`, or
    /// the target a `#`.
    private static func needsWork(_ target: UnsafeBufferPointer<UInt8>) -> Bool {
        var previous: UInt8 = 0
        var index = 0
        while index < target.count {
            let byte = target[index]
            switch byte {
            case UInt8(ascii: "?"): return target[index...].contains(UInt8(ascii: "#"))
            case UInt8(ascii: "%"), UInt8(ascii: "#"): return true
            case UInt8(ascii: "/") where previous == UInt8(ascii: "/"): return true
            case UInt8(ascii: ".") where previous == UInt8(ascii: "/"):
                let next = index + 1 < target.count ? target[index + 1] : UInt8(ascii: "/")
                if next == UInt8(ascii: "/") || next == UInt8(ascii: "?") { return true }
                if next == UInt8(ascii: ".") {
                    let after = index + 2 < target.count ? target[index + 2] : UInt8(ascii: "/")
                    if after == UInt8(ascii: "/") || after == UInt8(ascii: "?") { return true }
                }
            default: break
            }
            previous = byte
            index += 1
        }
        return false
    }

    /// `path` with `%XX` of unreserved characters (ALPHA, DIGIT, `-._~`) decoded; other escapes
    /// kept, their hex digits upper-cased.
    private static func decodingUnreserved(_ path: Substring.UTF8View.SubSequence) -> [UInt8] {
        let input = Array(path)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "%"), index + 2 < input.count,
                let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2])
            {
                let decoded = high << 4 | low
                if isUnreserved(decoded) {
                    output.append(decoded)
                } else {
                    output += [UInt8(ascii: "%"), hexDigit(high), hexDigit(low)]
                }
                index += 3
            } else {
                output.append(input[index])
                index += 1
            }
        }
        return output
    }

    /// `path`'s segments with empty and `.` segments dropped and each `..` taking the one before
    /// it away; a trailing slash (or a last `.`/`..`) stays a trailing slash. Nil when `..`
    /// climbs above the root.
    private static func resolved(_ path: [UInt8]) -> [UInt8]? {
        var kept: [ArraySlice<UInt8>] = []
        let segments = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        var trailingSlash = false
        for (offset, segment) in segments.enumerated() {
            let isLast = offset == segments.count - 1
            switch segment.count {
            case 0:
                trailingSlash = isLast
                continue
            case 1 where segment.first == UInt8(ascii: "."):
                trailingSlash = isLast
                continue
            case 2 where segment.allSatisfy({ $0 == UInt8(ascii: ".") }):
                guard kept.popLast() != nil else { return nil }
                trailingSlash = isLast
                continue
            default:
                kept.append(segment)
                trailingSlash = false
            }
        }
        var output: [UInt8] = []
        output.reserveCapacity(path.count)
        for segment in kept {
            output.append(UInt8(ascii: "/"))
            output += segment
        }
        if output.isEmpty || trailingSlash { output.append(UInt8(ascii: "/")) }
        return output
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}
