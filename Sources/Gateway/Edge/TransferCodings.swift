import NIOHTTP1

/// The `Transfer-Encoding` fields of a request or response read together (RFC 9112 §6.1). The edge
/// frames a body as `chunked` alone; a message naming any other coding (`gzip, chunked`), or
/// `chunked` twice, is one it neither decodes nor passes on.
struct TransferCodings {
    /// Whether the message has a `Transfer-Encoding` field at all.
    private(set) var present = false
    /// Whether every field read so far together name `chunked` once and nothing else.
    private(set) var chunkedAlone = true

    /// Reads one `Transfer-Encoding` field's value.
    mutating func add(_ value: String) {
        chunkedAlone = !present && value.equalsIgnoringASCIICase("chunked")
        present = true
    }

    /// Whether a field name is `Transfer-Encoding`, in any case.
    static func names(_ name: String) -> Bool {
        name.utf8.count == 17 && name.equalsIgnoringASCIICase("transfer-encoding")
    }
}

extension HTTPHeaders {
    /// Whether the fields name a transfer coding other than `chunked` alone (``TransferCodings``).
    var namesTransferCodingBeyondChunked: Bool {
        var codings = TransferCodings()
        for (name, value) in self where TransferCodings.names(name) {
            codings.add(value)
            if !codings.chunkedAlone { return true }
        }
        return false
    }
}
