import Booking
import Database
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import ServiceKit
import ServiceTestSupport
import Testing

@Suite("A routed path asked with a method it has no route for: 405 with Allow; OPTIONS: 204 with Allow")
struct MethodNotAllowedTests {
    static let logger = Logger(label: "method-tests")

    static func router() -> Router<BasicRequestContext> {
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.add(middleware: ProblemMiddleware())
        router.get("/items") { _, _ in "list" }
        router.post("/items") { _, _ in "made" }
        router.get("/items/:id") { _, context in try context.parameters.require("id") }
        router.on("/custom", method: .options) { _, _ in Response(status: .ok, headers: [.allow: "anything"]) }
        router.addMethodNotAllowedAnswers()
        return router
    }

    @Test("wrong methods are 405 problems naming the path's methods; the routes and unknown paths answer as before")
    func answers() async throws {
        try await Application(router: Self.router()).test(.router) { client in
            let wrong = try await client.execute(uri: "/items", method: .delete)
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong.headers[.allow] == "GET, HEAD, POST, OPTIONS")
            #expect(wrong.headers[.contentType] == "application/problem+json")
            let problem = try JSONDecoder().decode(ProblemDetails.self, from: wrong.body)
            #expect(problem.type == ProblemDetails.typeBase + "method-not-allowed" && problem.instance == "/items")

            let trace = try await client.execute(uri: "/items", method: .trace)
            #expect(trace.status == .methodNotAllowed && trace.headers[.allow] == "GET, HEAD, POST, OPTIONS")
            let put = try await client.execute(uri: "/items/7", method: .put)
            #expect(put.status == .methodNotAllowed && put.headers[.allow] == "GET, HEAD, OPTIONS", "a captured path has its own methods")
            let options = try await client.execute(uri: "/items/7", method: .options)
            #expect(options.status == .noContent && options.headers[.allow] == "GET, HEAD, OPTIONS")
            #expect(options.body.readableBytes == 0)

            #expect(String(buffer: try await client.execute(uri: "/items/7", method: .get).body) == "7")
            #expect(String(buffer: try await client.execute(uri: "/items", method: .post).body) == "made")
            #expect(try await client.execute(uri: "/items", method: .head).status == .ok, "HEAD comes from GET")
            let custom = try await client.execute(uri: "/custom", method: .options)
            #expect(custom.status == .ok && custom.headers[.allow] == "anything", "a path's own OPTIONS route is kept")
            #expect(try await client.execute(uri: "/custom", method: .get).headers[.allow] == "OPTIONS")
            for (uri, method) in [("/nothing", HTTPRequest.Method.get), ("/nothing", .post), ("/items/7/more", .get)] {
                let unknown = try await client.execute(uri: uri, method: method)
                #expect(unknown.status == .notFound && unknown.headers[.allow] == nil, "\(method) \(uri)")
            }
        }
    }

    @Test("the gateway's own paths (behind the edge) and the booking service's answer wrong methods with 405")
    func services() async throws {
        try await TestRedis.withClient { redis in
            let gateway = try await buildGatewayApplication(configuration: .init(port: 0, releaseInterval: .zero), redis: redis, logger: Self.logger)
            try await gateway.test(.live) { client in
                let health = try await client.execute(uri: "/health", method: .post)
                #expect(health.status == .methodNotAllowed && health.headers[.allow] == "GET, HEAD, OPTIONS", "\(health)")
                #expect(health.headers[.contentType] == "application/problem+json")
                #expect(try await client.execute(uri: "/health", method: .get).status == .ok, "GET stays the edge's")
                #expect(try await client.execute(uri: "/no/such/route", method: .post).status == .notFound)
            }
            try await withPostgresClient(configuration: try HealthAndProblemTests.postgresConfiguration(), logger: Self.logger) { postgres in
                let booking = buildBookingApplication(address: .init(port: 0), redis: redis, postgres: postgres, logger: Self.logger)
                try await booking.test(.router) { client in
                    let events = try await client.execute(uri: "/api/v1/events", method: .delete)
                    #expect(events.status == .methodNotAllowed && events.headers[.allow] == "GET, HEAD, POST, OPTIONS", "\(events)")
                }
            }
        }
    }
}
