import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceKit
import Testing

@testable import Gateway

@Suite("Every change through the admin API is logged with who made it")
struct AdminAuditTests {
    @Test("changes by the admin token and by an admin user are logged with their status; reads are not")
    func changes() async throws {
        try await GatewayFixture.with { fixture in
            let lines = CapturedLines()
            let logger = Logger(label: "audit-test") { label in
                var handler = JSONLogHandler(label: label) { data in lines.append(data) }
                handler.logLevel = .notice
                return handler
            }
            let application = Application(router: buildGatewayRouter(fixture.components), server: gatewayServer(fixture.components), logger: logger)
            let operatorToken = try await fixture.accessToken(user: "ops-1", roles: ["admin"])
            try await application.test(.router) { client in
                let room = "/admin/v1/rooms/\(fixture.event)"
                let json: HTTPFields = [.contentType: "application/json"]
                let put = try await client.execute(
                    uri: room, method: .put, headers: json + AdminAndPageTests.admin, body: ByteBuffer(string: #"{"release_rate": 7}"#)
                )
                #expect(put.status == .ok)
                #expect(try await client.execute(uri: room, method: .get, headers: AdminAndPageTests.admin).status == .ok)
                let refused = try await client.execute(
                    uri: room, method: .patch, headers: json + [.authorization: "Bearer \(operatorToken)"], body: ByteBuffer(string: #"{"release_rate": -1}"#)
                )
                #expect(refused.status == .unprocessableContent)
                #expect(try await client.execute(uri: room + "/pause", method: .post).status == .unauthorized)

                let changes = lines.objects.filter { $0["message"] as? String == "admin change" }
                #expect(changes.map { $0["actor"] as? String } == ["admin-token", "user:ops-1"], "\(changes)")
                #expect(changes.map { $0["method"] as? String } == ["PUT", "PATCH"] && changes.allSatisfy { $0["path"] as? String == room })
                #expect(changes.map { $0["status"] as? String } == ["200", "422"])
                #expect(changes.first?["request_id"] as? String == put.headers[HTTPField.Name("X-Request-Id")!])
            }
        }
    }
}

private func + (lhs: HTTPFields, rhs: HTTPFields) -> HTTPFields {
    var fields = lhs
    fields.append(contentsOf: rhs)
    return fields
}
