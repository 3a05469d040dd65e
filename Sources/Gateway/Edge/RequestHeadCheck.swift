import NIOHTTP1
import ServiceKit

/// What the edge refuses in a request head before routing it (RFC 9112 §3.2, §6.1): a request
/// whose host is ambiguous, whose body it cannot frame for the upstream, or that does not parse.
public enum RequestHeadError: Error, Sendable, Hashable {
    /// An HTTP/1.1 request without a `Host` field, any request with more than one, or a `Host`
    /// (or absolute-form authority) that is not a host and optional port (``HostField``).
    case hostInvalid
    /// A transfer coding other than `chunked` (`gzip, chunked`, …), which the gateway cannot decode.
    case transferCodingUnsupported
    /// `Transfer-Encoding` in an HTTP/1.0 request, whose framing is then faulty (RFC 9112 §6.1):
    /// a server before the gateway that ignores the field reads the chunks as the next request.
    case transferCodingInHTTP10
    /// The request line and fields together are over the decoder's limit (80 KiB).
    case headTooLarge
    /// Bytes that do not parse as an HTTP/1 request, or a target of `*` with a method other than
    /// OPTIONS (RFC 9112 §3.2.4).
    case malformed
    /// A path whose `..` segments climb above the root (``RequestPath``).
    case pathAboveRoot
    /// A target with a fragment (`#`), which clients keep to themselves (``RequestPath``).
    case fragment

    /// What the decoder's `error` means for the client.
    init(parsing error: HTTPParserError) {
        self = error == .headerOverflow ? .headTooLarge : .malformed
    }

    /// The name refused requests are counted under in the traffic window and metrics.
    static let routeName = "refused-head"
}

extension HTTPRequestHead {
    /// The head as the edge routes it: one `Host` (none allowed before HTTP/1.1), no transfer
    /// coding but `chunked` (and none before HTTP/1.1), `*` only for OPTIONS, a target in absolute
    /// form (`http://host/path`, which a server must accept) turned into its path and query, its
    /// authority becoming the `Host`, and the path in normal form (``RequestPath``).
    func checkedForEdge() throws(RequestHeadError) -> HTTPRequestHead {
        var hosts = 0
        var codings = TransferCodings()
        for (name, value) in headers {
            switch name.utf8.count {
            case 4 where name.equalsIgnoringASCIICase("host"):
                guard HostField.isValid(value) else { throw .hostInvalid }
                hosts += 1
            case 17 where TransferCodings.names(name): codings.add(value)
            default: break
            }
        }
        guard hosts == 1 || (hosts == 0 && !version.isHTTP11OrLater) else { throw .hostInvalid }
        if codings.present {
            guard version.isHTTP11OrLater else { throw .transferCodingInHTTP10 }
            guard codings.chunkedAlone else { throw .transferCodingUnsupported }
        }
        if uri == "*", method != .OPTIONS { throw .malformed }
        guard let (authority, target) = Self.absoluteForm(uri) else { return try withNormalPath() }
        guard HostField.isValid(authority) else { throw .hostInvalid }
        var head = self
        head.uri = target
        head.headers.replaceOrAdd(name: "host", value: authority)
        return try head.withNormalPath()
    }

    private func withNormalPath() throws(RequestHeadError) -> HTTPRequestHead {
        switch RequestPath.normalize(uri) {
        case .unchanged: return self
        case .invalid: throw .pathAboveRoot
        case .fragment: throw .fragment
        case .rewritten(let target):
            var head = self
            head.uri = target
            return head
        }
    }

    /// The authority and the path with its query of an absolute-form target, nil for any other.
    static func absoluteForm(_ uri: String) -> (authority: String, target: String)? {
        let scheme: Int
        if uri.hasPrefixIgnoringASCIICase("http://") {
            scheme = 7
        } else if uri.hasPrefixIgnoringASCIICase("https://") {
            scheme = 8
        } else {
            return nil
        }
        let rest = uri.utf8.dropFirst(scheme)
        let end = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.endIndex
        let authority = String(Substring(rest[..<end]))
        let remainder = String(Substring(rest[end...]))
        return (authority, remainder.hasPrefix("/") ? remainder : "/" + remainder)
    }
}
