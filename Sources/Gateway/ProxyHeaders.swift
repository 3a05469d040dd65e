import Crypto
import Foundation
import HTTPTypes
import NIOHTTP1
import ServiceKit

/// Header rewriting for proxied requests and responses, in NIO's HTTP/1 fields.
enum ProxyHeaders {
    /// Hop-by-hop fields (RFC 9110 §7.6.1), never forwarded.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
        "trailer", "transfer-encoding", "upgrade",
    ]

    /// The fields with the hop-by-hop ones removed, and those that `Connection` names.
    static func strippingHopByHop(_ fields: HTTPHeaders) -> HTTPHeaders {
        let nominated = nominatedHopByHop(fields)
        var kept = HTTPHeaders()
        kept.reserveCapacity(fields.count)
        for (name, value) in fields {
            let lowered = name.lowercased()
            if !hopByHop.contains(lowered), !nominated.contains(lowered) { kept.add(name: name, value: value) }
        }
        return kept
    }

    /// The lower-cased field names listed by `Connection`.
    static func nominatedHopByHop(_ fields: HTTPHeaders) -> Set<String> {
        var named = Set<String>()
        for value in fields["connection"] {
            for token in value.split(separator: ",") { named.insert(token.trimmingCharacters(in: .whitespaces).lowercased()) }
        }
        return named
    }

    /// The request id to use: the client's when it is sane, otherwise a new one.
    static func requestID(from given: String?) -> String {
        if let given, (1...128).contains(given.utf8.count), given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return given
        }
        return newRequestID()
    }

    /// A random version-4 UUID in lower case, made without Foundation's `uuid_unparse` (a `sprintf`).
    static func newRequestID() -> String {
        var random = SystemRandomNumberGenerator()
        var bytes = (random.next() as UInt64, random.next() as UInt64)
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = raw[6] & 0x0F | 0x40
            raw[8] = raw[8] & 0x3F | 0x80
            let digits: StaticString = "0123456789abcdef"
            return String(unsafeUninitializedCapacity: 36) { text in
                var at = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    text[at] = digits.utf8Start[Int(byte >> 4)]
                    text[at + 1] = digits.utf8Start[Int(byte & 0x0F)]
                    at += 2
                }
                return at
            }
        }
    }

    /// The request id of a request's fields (see ``requestID(from:)``).
    static func requestID(from fields: HTTPFields) -> String {
        requestID(from: fields[.xRequestID])
    }

    /// The fields sent upstream, made in one pass over the client's: hop-by-hop fields and
    /// client copies of `X-Gateway-*` dropped, `Host` set to the upstream, forwarding fields set,
    /// and the verified identity added with a signature the services can check. With
    /// `dropTraceContext` the client's W3C trace fields go too: the gateway's span replaces them.
    static func upstreamHeaders(
        from request: HTTPHeaders,
        target: UpstreamTarget,
        clientAddress: String,
        peerIsTrusted: Bool,
        requestID: String,
        identity: Identity?,
        signingKey: SymmetricKey,
        dropTraceContext: Bool
    ) -> HTTPHeaders {
        let nominated = request.contains(name: "connection") ? nominatedHopByHop(request) : []
        var fields = HTTPHeaders()
        fields.reserveCapacity(request.count + 8)
        fields.add(name: "host", value: target.authority)
        var forwardedFor: [String] = []
        var host: String?
        var proto: String?
        for (name, value) in request {
            let lowered = name.lowercased()
            switch lowered {
            case "host": host = value; continue
            case "x-forwarded-for": if peerIsTrusted { forwardedFor.append(value) }; continue
            case "x-forwarded-proto": if peerIsTrusted { proto = value }; continue
            case "x-forwarded-host": if peerIsTrusted { host = value }; continue
            case "x-request-id", "traceparent" where dropTraceContext, "tracestate" where dropTraceContext: continue
            default: break
            }
            if hopByHop.contains(lowered) || nominated.contains(lowered) || lowered.hasPrefix("x-gateway-") { continue }
            fields.add(name: name, value: value)
        }
        forwardedFor.append(clientAddress)
        fields.add(name: "x-forwarded-for", value: forwardedFor.joined(separator: ", "))
        fields.add(name: "x-forwarded-proto", value: proto ?? "http")
        if let host { fields.add(name: "x-forwarded-host", value: host) }
        fields.add(name: "x-request-id", value: requestID)
        fields.add(name: "x-gateway-client-ip", value: clientAddress)
        let roles = identity?.roles.sorted() ?? []
        if let identity {
            fields.add(name: "x-gateway-user-id", value: identity.userID)
            fields.add(name: "x-gateway-user-roles", value: roles.joined(separator: ","))
        }
        fields.add(name: "x-gateway-signature", value: GatewaySignature.sign(
            userID: identity?.userID, roles: roles, requestID: requestID, key: signingKey
        ))
        return fields
    }

    /// The upstream's response fields as the client gets them: hop-by-hop fields dropped
    /// (NIO frames the body again), the rest in their order.
    static func downstreamHeaders(from response: HTTPHeaders) -> HTTPHeaders {
        strippingHopByHop(response)
    }
}
