import Crypto
import EmbeddedResources
import HTTPTypes
import Hummingbird
import NIOCore

/// The browser pages the gateway serves from files embedded at build time (`Web/`): the
/// customer flow at `/shop/{event}`, the operator console at `/admin/` and the API's OpenAPI 3.1
/// document at `/openapi.json`.
struct WebAssets: Sendable {
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: String
        let etag: String
    }

    let assets: [String: Asset]

    init(files: [String: EmbeddedFile] = EmbeddedWeb.all) {
        var assets: [String: Asset] = [:]
        for (name, file) in files {
            let digest = SHA256.hash(data: Array(file.contents.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
            assets[name] = Asset(body: ByteBuffer(string: file.contents), contentType: Self.contentType(of: name), etag: "\"\(digest)\"")
        }
        self.assets = assets
    }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }

    /// Pages may run only the gateway's own scripts and talk only to the gateway.
    static let pageSecurityPolicy = "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/") { _, _ in Response(status: .found, headers: [.location: "/shop/"]) }
        for path in ["shop", "shop/:event"] {
            router.get(RouterPath(path)) { request, _ in try page("shop.html", request) }
        }
        router.get("admin") { request, _ in try page("admin.html", request) }
        router.get("openapi.json") { request, _ in try response("openapi.json", request, cacheControl: "no-cache") }
        router.get("assets/:file") { request, context in
            let name = try context.parameters.require("file")
            guard !name.hasSuffix(".html") else { throw HTTPError(.notFound) }
            return try response(name, request, cacheControl: "public, max-age=300")
        }
    }

    private func page(_ name: String, _ request: Request) throws -> Response {
        var response = try response(name, request, cacheControl: "no-cache")
        response.headers[.contentSecurityPolicy] = Self.pageSecurityPolicy
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "same-origin"
        return response
    }

    private func response(_ name: String, _ request: Request, cacheControl: String) throws -> Response {
        guard let asset = assets[name] else { throw HTTPError(.notFound, message: "No such asset.") }
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: asset.etag, .cacheControl: cacheControl, .xContentTypeOptions: "nosniff",
        ]
        if request.headers[.ifNoneMatch] == asset.etag {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(asset.body.readableBytes)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
