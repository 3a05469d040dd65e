import Booking
import Database
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Payments
import PostgresNIO
import Redis
import ServiceKit
import ServiceTestSupport
import Testing

@Suite("Service health, readiness and problem+json errors")
struct HealthAndProblemTests {
    static let logger = Logger(label: "service-tests")

    static func postgresConfiguration() throws -> PostgresClient.Configuration {
        try PostgresClient.Configuration(
            url: ProcessInfo.processInfo.environment["TEST_DATABASE_URL"]
                ?? "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush_test"
        )
    }

    @Test("the gateway is healthy and ready when Redis answers")
    func gatewayReady() async throws {
        try await TestRedis.withClient { redis in
            let app = try await buildGatewayApplication(configuration: .init(port: 0, releaseInterval: .zero), redis: redis, logger: Self.logger)
            try await app.test(.router) { client in
                try await client.execute(uri: "/health", method: .get) { response in
                    #expect(response.status == .ok)
                }
                try await client.execute(uri: "/ready", method: .get) { response in
                    #expect(response.status == .ok)
                    let report = try JSONDecoder().decode(HealthReport.self, from: response.body)
                    #expect(report.checks == ["redis": "ok"])
                }
            }
        }
    }

    @Test("/ready is a 503 problem when Redis is down, while /health stays 200")
    func gatewayNotReady() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:1/0"))
        let app = try await buildGatewayApplication(configuration: .init(port: 0, releaseInterval: .zero), redis: redis, logger: Self.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try JSONDecoder().decode(ProblemDetails.self, from: response.body)
                #expect(problem.statusCode == 503)
                #expect(problem.detail?.hasPrefix("redis: failing") == true)
            }
        }
        await redis.shutdown()
    }

    @Test("booking and payments check Postgres (and booking Redis) for readiness")
    func bookingAndPaymentsReady() async throws {
        try await TestRedis.withClient { redis in
            try await withPostgresClient(configuration: try Self.postgresConfiguration(), logger: Self.logger) { postgres in
                let booking = buildBookingApplication(address: .init(port: 0), redis: redis, postgres: postgres, logger: Self.logger)
                try await booking.test(.router) { client in
                    try await client.execute(uri: "/ready", method: .get) { response in
                        try #require(response.status == .ok, "\(String(buffer: response.body))")
                        let report = try JSONDecoder().decode(HealthReport.self, from: response.body)
                        #expect(Set(report.checks.keys) == ["redis", "postgres", "dead-letters"])
                        #expect(report.checks["redis"] == "ok" && report.checks["postgres"] == "ok")
                        #expect(report.checks["dead-letters"].map { $0 == "ok" || $0.hasPrefix("warning: ") } == true, "advisory: never failing")
                    }
                }
                let payments = buildPaymentsApplication(address: .init(port: 0), postgres: postgres, logger: Self.logger)
                try await payments.test(.router) { client in
                    try await client.execute(uri: "/ready", method: .get) { response in
                        try #require(response.status == .ok, "\(String(buffer: response.body))")
                        let report = try JSONDecoder().decode(HealthReport.self, from: response.body)
                        #expect(report.checks == ["postgres": "ok"])
                    }
                }
            }
        }
    }

    @Test("booking and payments answer HEAD on their GET routes as GET would, without a body")
    func headOnServiceRoutes() async throws {
        try await TestRedis.withClient { redis in
            try await withPostgresClient(configuration: try Self.postgresConfiguration(), logger: Self.logger) { postgres in
                let booking = buildBookingApplication(address: .init(port: 0), redis: redis, postgres: postgres, logger: Self.logger)
                try await booking.test(.live) { client in
                    let port = try #require(client.port)
                    let requests = ["HEAD /health", "HEAD /api/v1/events", "HEAD /no/such/route", "GET /health"]
                        .map { "\($0) HTTP/1.1\r\nHost: booking\r\n\r\n" }.joined()
                    let text = try await RawConnection.exchange(port: port, requests, limit: .seconds(10)) { received, _ in
                        received.components(separatedBy: "HTTP/1.1 ").count == 5 && received.hasSuffix("}")
                    }
                    let answers = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.components(separatedBy: "\r\n\r\n") }
                    try #require(answers.count == 4, "\(text)")
                    #expect(answers[0][0].hasPrefix("200 OK") && answers[0][1].isEmpty, "\(answers[0])")
                    #expect(answers[1][0].hasPrefix("200 OK") && answers[1][1].isEmpty, "\(answers[1])")
                    #expect(answers[2][0].hasPrefix("404 Not Found") && answers[2][1].isEmpty, "\(answers[2])")
                    #expect(answers[3][0].hasPrefix("200 OK") && answers[3][1].hasPrefix("{"), "\(answers[3])")
                    #expect(answers[0][0].lowercased().contains("content-length: \(answers[3][1].utf8.count)\r\n"), "\(answers[0][0])")
                }
                let payments = buildPaymentsApplication(address: .init(port: 0), postgres: postgres, logger: Self.logger)
                try await payments.test(.router) { client in
                    let get = try await client.execute(uri: "/ready", method: .get)
                    let head = try await client.execute(uri: "/ready", method: .head)
                    #expect(get.status == .ok && head.status == .ok)
                    #expect(head.headers[.contentType] == get.headers[.contentType])
                    #expect(head.body.readableBytes == 0 && get.body.readableBytes > 0)
                }
            }
        }
    }

    @Test("payments answers Expect: 100-continue before the body comes, then the request, then the next one")
    func paymentsContinue() async throws {
        try await withPostgresClient(configuration: try Self.postgresConfiguration(), logger: Self.logger) { postgres in
            let payments = buildPaymentsApplication(address: .init(port: 0), postgres: postgres, logger: Self.logger)
            try await payments.test(.live) { client in
                let port = try #require(client.port)
                let head = "POST /api/v1/payments/intent HTTP/1.1\r\nHost: payments\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
                var sentBody = false
                let text = try await RawConnection.exchange(port: port, head, limit: .seconds(5)) { received, outbound in
                    if !sentBody, received.hasPrefix("HTTP/1.1 100 Continue\r\n\r\n") {
                        sentBody = true
                        try await outbound.write(ByteBuffer(string: "{}GET /health HTTP/1.1\r\nHost: payments\r\n\r\n"))
                    }
                    return received.components(separatedBy: "HTTP/1.1 ").count == 4 && received.hasSuffix("}")
                }
                #expect(text.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\n"), "\(text)")
                #expect(text.contains("identity-required"), "\(text)")
                #expect(text.contains("HTTP/1.1 200 OK\r\n"), "the next request on the connection: \(text)")
            }
        }
    }

    @Test("unknown routes and wrong methods are problem+json, never bare errors")
    func unknownRoute() async throws {
        try await TestRedis.withClient { redis in
            let app = try await buildGatewayApplication(configuration: .init(port: 0, releaseInterval: .zero), redis: redis, logger: Self.logger)
            try await app.test(.router) { client in
                try await client.execute(uri: "/no/such/route", method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    let problem = try JSONDecoder().decode(ProblemDetails.self, from: response.body)
                    #expect(problem.instance == "/no/such/route")
                    #expect(problem.title == "Not Found")
                }
            }
        }
    }

    @Test("typed errors and unexpected errors map to problems in one place")
    func errorMapping() async throws {
        struct SoldOut: ProblemConvertible {
            var problem: ProblemDetails {
                ProblemDetails(status: .conflict, type: "https://booking-rush.dev/problems/sold-out", title: "Sold out", detail: "zone A has no seats")
            }
        }
        struct Unexpected: Error {}
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        router.get("/typed") { _, _ -> String in throw SoldOut() }
        router.get("/unexpected") { _, _ -> String in throw Unexpected() }
        router.get("/http") { _, _ -> String in throw HTTPError(.tooManyRequests, headers: [.retryAfter: "3"], message: "slow down") }
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/typed", method: .get) { response in
                #expect(response.status == .conflict)
                let problem = try JSONDecoder().decode(ProblemDetails.self, from: response.body)
                #expect(problem.type == "https://booking-rush.dev/problems/sold-out")
                #expect(problem.detail == "zone A has no seats")
            }
            try await client.execute(uri: "/unexpected", method: .get) { response in
                #expect(response.status == .internalServerError)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(!String(buffer: response.body).contains("Unexpected"), "internal error types must not leak")
            }
            try await client.execute(uri: "/http", method: .get) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] == "3")
                let problem = try JSONDecoder().decode(ProblemDetails.self, from: response.body)
                #expect(problem.detail == "slow down")
            }
        }
    }
}
