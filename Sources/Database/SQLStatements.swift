/// Splits a SQL script into its statements at top-level semicolons.
///
/// postgres-nio speaks only the extended query protocol, which takes one statement at a time,
/// so migration files are split first. Semicolons inside quoted strings (`'...'`, `E'...'`),
/// quoted identifiers (`"..."`), dollar-quoted bodies (`$$...$$`, `$tag$...$tag$`), and
/// comments (`--`, nested `/* */`) do not split. Statements that are only whitespace or
/// comments are dropped.
public func splitSQLStatements(_ script: String) -> [String] {
    let bytes = Array(script.utf8)
    var statements: [String] = []
    var start = 0
    var index = 0
    var hasCode = false

    func finish(at end: Int) {
        if hasCode {
            let text = String(decoding: bytes[start..<end], as: UTF8.self)
            statements.append(text.trimmingWhitespace())
        }
        hasCode = false
    }

    while index < bytes.count {
        let byte = bytes[index]
        let next = index + 1 < bytes.count ? bytes[index + 1] : 0
        switch byte {
        case UInt8(ascii: "-") where next == UInt8(ascii: "-"):
            while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
            continue
        case UInt8(ascii: "/") where next == UInt8(ascii: "*"):
            var depth = 0
            repeat {
                if bytes[index] == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*") {
                    depth += 1
                    index += 2
                } else if bytes[index] == UInt8(ascii: "*"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                    depth -= 1
                    index += 2
                } else {
                    index += 1
                }
            } while depth > 0 && index < bytes.count
            continue
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            hasCode = true
            let escapes = byte == UInt8(ascii: "'") && isEscapeStringPrefix(bytes, before: index)
            index += 1
            while index < bytes.count {
                if bytes[index] == byte {
                    if index + 1 < bytes.count, bytes[index + 1] == byte { index += 2; continue }
                    break
                }
                if escapes, bytes[index] == UInt8(ascii: "\\") { index += 1 }
                index += 1
            }
        case UInt8(ascii: "$"):
            hasCode = true
            if let tagEnd = dollarTagEnd(bytes, from: index) {
                let tag = bytes[index...tagEnd]
                var cursor = tagEnd + 1
                while cursor < bytes.count, !bytes[cursor...].starts(with: tag) { cursor += 1 }
                index = min(bytes.count, cursor + tag.count)
                continue
            }
        case UInt8(ascii: ";"):
            finish(at: index)
            start = index + 1
        case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
            break
        default:
            hasCode = true
        }
        index += 1
    }
    finish(at: bytes.count)
    return statements
}

/// Whether the quote at `index` opens an `E'...'` string, where backslash escapes a quote.
private func isEscapeStringPrefix(_ bytes: [UInt8], before index: Int) -> Bool {
    guard index >= 1, bytes[index - 1] == UInt8(ascii: "E") || bytes[index - 1] == UInt8(ascii: "e") else { return false }
    guard index >= 2 else { return true }
    let previous = bytes[index - 2]
    let isIdentifier = previous == UInt8(ascii: "_") || (previous >= 0x30 && previous <= 0x39)
        || (previous >= 0x41 && previous <= 0x5A) || (previous >= 0x61 && previous <= 0x7A) || previous >= 0x80
    return !isIdentifier
}

/// The index of the closing `$` of a dollar-quote tag starting at `start`, if it is one.
private func dollarTagEnd(_ bytes: [UInt8], from start: Int) -> Int? {
    var index = start + 1
    while index < bytes.count {
        let byte = bytes[index]
        if byte == UInt8(ascii: "$") { return index }
        let isTagCharacter = byte == UInt8(ascii: "_") || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || (index > start + 1 && byte >= 0x30 && byte <= 0x39) || byte >= 0x80
        guard isTagCharacter else { return nil }
        index += 1
    }
    return nil
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let characters = Substring(self)
        let trimmed = characters.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed()
        return String(trimmed)
    }
}
