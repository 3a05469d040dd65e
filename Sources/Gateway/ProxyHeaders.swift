import Crypto
import Foundation
import HTTPTypes
import ServiceKit
import Tracing

/// Header rewriting for proxied requests and responses.
enum ProxyHeaders {
    /// Hop-by-hop fields (RFC 9110 §7.6.1), never forwarded.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
        "trailer", "transfer-encoding", "upgrade",
    ]

    /// Removes hop-by-hop fields, and those the `Connection` field names.
    static func strippingHopByHop(_ fields: HTTPFields) -> HTTPFields {
        var named = hopByHop
        for value in fields[values: .connection] {
            for token in value.split(separator: ",") { named.insert(token.trimmingCharacters(in: .whitespaces).lowercased()) }
        }
        return HTTPFields(fields.filter { !named.contains($0.name.canonicalName) })
    }

    /// The request id to use: the client's when it is sane, otherwise a new one.
    static func requestID(from fields: HTTPFields) -> String {
        if let given = fields[.xRequestID], (1...128).contains(given.utf8.count),
           given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return given
        }
        return UUID().uuidString.lowercased()
    }

    /// Whether a tracer is installed (OpenTelemetry on); asked once, when the proxy is made.
    static var tracerInstalled: Bool { !(InstrumentationSystem.tracer is NoOpTracer) }

    /// The fields sent upstream: client copies of identity fields removed, forwarding fields
    /// set, and the verified identity added with a signature the services can check. With
    /// `replacingTraceContext` the client's W3C trace fields are dropped: the HTTP client injects
    /// the gateway's own span instead of sending a second `traceparent` beside theirs.
    static func upstreamFields(
        from request: HTTPRequest,
        clientAddress: String,
        peerIsTrusted: Bool,
        requestID: String,
        identity: Identity?,
        signingKey: SymmetricKey,
        replacingTraceContext: Bool = false
    ) -> HTTPFields {
        var fields = strippingHopByHop(request.headerFields)
        fields = HTTPFields(fields.filter { !$0.name.canonicalName.hasPrefix("x-gateway-") })
        if replacingTraceContext {
            fields[HTTPField.Name("traceparent")!] = nil
            fields[HTTPField.Name("tracestate")!] = nil
        }
        fields[HTTPField.Name("Host")!] = nil
        let forwardedFor = peerIsTrusted ? fields[values: .xForwardedFor] : []
        fields[.xForwardedFor] = nil
        fields[.xForwardedFor] = (forwardedFor + [clientAddress]).joined(separator: ", ")
        if !peerIsTrusted || fields[.xForwardedProto] == nil { fields[.xForwardedProto] = request.scheme ?? "http" }
        if !peerIsTrusted || fields[.xForwardedHost] == nil, let authority = request.authority { fields[.xForwardedHost] = authority }
        fields[.xRequestID] = requestID
        fields[.gatewayClientIP] = clientAddress
        if let identity {
            fields[.gatewayUserID] = identity.userID
            fields[.gatewayUserRoles] = identity.roles.sorted().joined(separator: ",")
        }
        fields[.gatewaySignature] = GatewaySignature.sign(
            userID: identity?.userID, roles: identity?.roles.sorted() ?? [], requestID: requestID, key: signingKey
        )
        return fields
    }
}
