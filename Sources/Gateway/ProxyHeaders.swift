import Crypto
import Foundation
import HTTPTypes
import NIOHTTP1
import ServiceKit
import Synchronization

/// Header rewriting for proxied requests and responses, in NIO's HTTP/1 fields.
enum ProxyHeaders {
    /// The fields with the hop-by-hop ones removed, and those that `Connection` names, with
    /// room for `adding` more.
    static func strippingHopByHop(_ fields: HTTPHeaders, adding: Int = 0) -> HTTPHeaders {
        let nominated = nominatedHopByHop(fields)
        var kept = HTTPHeaders()
        kept.reserveCapacity(fields.count + adding)
        for (name, value) in fields where !isHopByHop(name) {
            if nominated.isEmpty || !nominated.contains(where: { name.equalsIgnoringASCIICase(lowercased: $0) }) { kept.add(name: name, value: value) }
        }
        return kept
    }

    /// The lower-cased field names listed by `Connection`, besides `close` and `keep-alive`
    /// (usually none), split and trimmed on the UTF-8 bytes without Foundation.
    static func nominatedHopByHop(_ fields: HTTPHeaders) -> [String] {
        var named: [String] = []
        for (name, value) in fields where name.equalsIgnoringASCIICase("connection") {
            if value.equalsIgnoringASCIICase("keep-alive") || value.equalsIgnoringASCIICase("close") { continue }
            for token in value.utf8.split(separator: UInt8(ascii: ",")) {
                let trimmed = token.drop(while: { $0 == 0x20 || $0 == 0x09 }).reversed().drop(while: { $0 == 0x20 || $0 == 0x09 }).reversed()
                guard !trimmed.isEmpty else { continue }
                let name = String(decoding: trimmed.map(\.asciiLowercased), as: UTF8.self)
                if name != "close", name != "keep-alive" { named.append(name) }
            }
        }
        return named
    }

    /// Whether `name` is a hop-by-hop field (RFC 9110 §7.6.1), never forwarded: compared
    /// without allocating, by length first.
    static func isHopByHop(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2: name.equalsIgnoringASCIICase("te")
        case 7: name.equalsIgnoringASCIICase("trailer") || name.equalsIgnoringASCIICase("upgrade")
        case 10: name.equalsIgnoringASCIICase("connection") || name.equalsIgnoringASCIICase("keep-alive")
        case 16: name.equalsIgnoringASCIICase("proxy-connection")
        case 17: name.equalsIgnoringASCIICase("transfer-encoding")
        case 18: name.equalsIgnoringASCIICase("proxy-authenticate")
        case 19: name.equalsIgnoringASCIICase("proxy-authorization")
        default: false
        }
    }

    /// The request id to use: the client's when it is sane, otherwise a new one.
    static func requestID(from given: String?) -> String {
        if let given, (1...128).contains(given.utf8.count), given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return given
        }
        return newRequestID()
    }

    private static let requestIDPrefix = UInt64.random(in: 0 ... .max)
    private static let requestIDCounter = Atomic<UInt64>(UInt64.random(in: 0 ... .max))

    /// A UUID-shaped id in lower case: a random per-process half and a counter, unique without a
    /// `getrandom` call per request.
    static func newRequestID() -> String {
        UUIDText.version4(requestIDPrefix, requestIDCounter.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    /// The request id of a request's fields (see ``requestID(from:)``).
    static func requestID(from fields: HTTPFields) -> String {
        requestID(from: fields[.xRequestID])
    }

    /// Writes the fields sent upstream into `head`, in one pass over the client's: hop-by-hop
    /// fields, the client's framing (`Content-Length`; the caller frames the body), `Expect` (the
    /// edge answers it) and client copies of `X-Gateway-*` dropped (also when spelt with `_`),
    /// `Host` set to the upstream, forwarding fields set, `via` added after the client's `Via`
    /// entries, and the verified identity added with a signature over the `signed` request the
    /// services can check.
    /// With `dropTraceContext` the client's W3C trace fields go too: the gateway's span replaces them.
    static func writeUpstreamFields(
        from request: HTTPHeaders,
        into head: inout UpstreamRequestHead,
        target: UpstreamTarget,
        clientAddress: String,
        peerIsTrusted: Bool,
        signed: SignedRequest,
        signer: GatewaySigner,
        via: String,
        dropTraceContext: Bool
    ) {
        let nominated = nominatedHopByHop(request)
        head.add(name: "host", value: target.authority)
        var forwardedFor: [String] = []
        var host: String?
        var proto: String?
        for (name, value) in request {
            switch forwardingRole(of: name, dropTraceContext: dropTraceContext) {
            case .host: host = value; continue
            case .forwardedFor: if peerIsTrusted { forwardedFor.append(value) }; continue
            case .forwardedProto: if peerIsTrusted { proto = value }; continue
            case .forwardedHost: if peerIsTrusted { host = value }; continue
            case .replaced: continue
            case .other: break
            }
            if isHopByHop(name) || isGatewayField(name) || (!nominated.isEmpty && nominated.contains(where: { name.equalsIgnoringASCIICase(lowercased: $0) })) { continue }
            if name.utf8.contains(UInt8(ascii: "_")), isOwnField(underscored: name, dropTraceContext: dropTraceContext) { continue }
            head.add(name: name, value: value)
        }
        forwardedFor.append(clientAddress)
        head.add(name: "x-forwarded-for", value: forwardedFor.joined(separator: ", "))
        head.add(name: "x-forwarded-proto", value: proto ?? "http")
        if let host { head.add(name: "x-forwarded-host", value: host) }
        head.add(name: "via", value: via)
        head.add(name: "x-request-id", value: signed.requestID)
        head.add(name: "x-gateway-client-ip", value: clientAddress)
        if let userID = signed.userID {
            head.addChecked(name: "x-gateway-user-id", value: userID)
            head.addChecked(name: "x-gateway-user-roles", value: signed.roles.joined(separator: ","))
        }
        head.add(name: "x-gateway-signature", value: signer.sign(signed))
    }

    private enum ForwardingRole { case host, forwardedFor, forwardedProto, forwardedHost, replaced, other }

    /// What a client field means to forwarding, told by length first and without lower-casing.
    private static func forwardingRole(of name: String, dropTraceContext: Bool) -> ForwardingRole {
        switch name.utf8.count {
        case 4: name.equalsIgnoringASCIICase("host") ? .host : .other
        case 6: name.equalsIgnoringASCIICase("expect") ? .replaced : .other
        case 10: dropTraceContext && name.equalsIgnoringASCIICase("tracestate") ? .replaced : .other
        case 11: dropTraceContext && name.equalsIgnoringASCIICase("traceparent") ? .replaced : .other
        case 12: name.equalsIgnoringASCIICase("x-request-id") ? .replaced : .other
        case 14: name.equalsIgnoringASCIICase("content-length") ? .replaced : .other
        case 15: name.equalsIgnoringASCIICase("x-forwarded-for") ? .forwardedFor : .other
        case 16: name.equalsIgnoringASCIICase("x-forwarded-host") ? .forwardedHost : .other
        case 17: name.equalsIgnoringASCIICase("x-forwarded-proto") ? .forwardedProto : .other
        default: .other
        }
    }

    /// Whether `name` starts with `x-gateway-` in any case: the gateway's own fields, never taken from a client.
    private static func isGatewayField(_ name: String) -> Bool {
        name.hasPrefixIgnoringASCIICase("x-gateway-")
    }

    /// Whether `name`, a field name with `_`, reads as a field the gateway sets or drops once each
    /// `_` is read as `-`, as CGI, PHP, WSGI and Rack do (`X_Gateway_User_Id` and `X-Gateway-User-Id`
    /// are both `HTTP_X_GATEWAY_USER_ID` there): such a field is dropped, so that a client cannot
    /// pass one of the gateway's own fields to an upstream that reads names that way.
    private static func isOwnField(underscored name: String, dropTraceContext: Bool) -> Bool {
        let dashed = String(decoding: name.utf8.map { $0 == UInt8(ascii: "_") ? UInt8(ascii: "-") : $0 }, as: UTF8.self)
        return forwardingRole(of: dashed, dropTraceContext: dropTraceContext) != .other || isGatewayField(dashed) || isHopByHop(dashed)
    }

    /// The upstream's response fields as the client gets them: hop-by-hop fields dropped
    /// (NIO frames the body again), the rest in their order; room is made for `adding` more.
    static func downstreamHeaders(from response: HTTPHeaders, adding: Int = 0) -> HTTPHeaders {
        strippingHopByHop(response, adding: adding)
    }
}

extension String {
    /// Whether the string equals `lowercase` (ASCII, lower case) ignoring the case of A–Z.
    func equalsIgnoringASCIICase(_ lowercase: StaticString) -> Bool {
        utf8.count == lowercase.utf8CodeUnitCount && hasPrefixIgnoringASCIICase(lowercase)
    }

    /// Whether the string equals `lowercased` (ASCII, lower case) ignoring the case of A–Z.
    func equalsIgnoringASCIICase(lowercased: String) -> Bool {
        utf8.count == lowercased.utf8.count && zip(utf8, lowercased.utf8).allSatisfy { $0.asciiLowercased == $1 }
    }

    /// Whether the string starts with `lowercase` (ASCII, lower case) ignoring the case of A–Z.
    func hasPrefixIgnoringASCIICase(_ lowercase: StaticString) -> Bool {
        let prefix = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        return utf8.count >= prefix.count && zip(utf8, prefix).allSatisfy { $0.asciiLowercased == $1 }
    }
}

extension UInt8 {
    /// The byte with A–Z lowered to a–z, every other byte as it is.
    var asciiLowercased: UInt8 { self &- UInt8(ascii: "A") < 26 ? self | 0x20 : self }
}
