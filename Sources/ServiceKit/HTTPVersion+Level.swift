import NIOHTTP1

extension HTTPVersion {
    /// Whether this is HTTP/1.1 or later: the version from which `Host` is required and
    /// `Expect: 100-continue` is understood.
    public var isHTTP11OrLater: Bool {
        major > 1 || (major == 1 && minor >= 1)
    }
}
