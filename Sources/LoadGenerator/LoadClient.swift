import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP answer as the load generator sees it: status, JSON body (if any) and the problem type.
struct LoadResponse: Sendable {
    var status: Int
    var json: [String: any Sendable]
    /// Seconds from `Retry-After`, when sent.
    var retryAfter: Double?
    var problemType: String? { json["type"] as? String }
}

/// A thin JSON client over AsyncHTTPClient, with a pool sized for thousands of simulated visitors.
struct LoadClient: Sendable {
    let base: String
    let http: HTTPClient
    let timeout: TimeAmount

    init(base: String, connections: Int, timeout: TimeAmount = .seconds(30)) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        )
        configuration.decompression = .disabled
        self.http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        self.timeout = timeout
    }

    /// Sends the request; transport failures come back as thrown errors.
    func send(_ method: HTTPMethod, _ path: String, json body: [String: any Sendable]? = nil, headers: [(String, String)] = []) async throws -> LoadResponse {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])))
        }
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
        return LoadResponse(
            status: Int(response.status.code), json: json.mapValues { Self.sendable($0) },
            retryAfter: response.headers.first(name: "Retry-After").flatMap(Double.init)
        )
    }

    private static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let string as String: string
        case let integer as Int: integer
        case let double as Double: double
        case let array as [Any]: array.map { sendable($0) }
        case let object as [String: Any]: object.mapValues { sendable($0) }
        default: String(describing: value)
        }
    }

    func shutdown() async throws {
        try await http.shutdown()
    }
}

extension LoadResponse {
    func string(_ key: String) -> String? { json[key] as? String }
    func int(_ key: String) -> Int? { json[key] as? Int }

    /// How a failed call is reported: `409 sold-out`, `503 queue-unavailable`, `500`.
    var kind: String {
        let slug = problemType.map { $0.split(separator: "/").last.map(String.init) ?? $0 }
        return slug.map { "\(status) \($0)" } ?? "\(status)"
    }
}
