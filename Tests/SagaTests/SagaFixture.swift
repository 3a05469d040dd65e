import AsyncHTTPClient
import Booking
import Database
import Foundation
import Gateway
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Payments
import PostgresNIO
import Redis
import ServiceKit
import ServiceLifecycle
import ServiceTestSupport
import Synchronization
import Testing

/// A service of the fixture stopped before it was ready.
struct ServiceCrashed: Error, CustomStringConvertible {
    let description: String
}

/// Booking and payments services on real loopback ports with their workers, a gateway routing
/// to them, the tests' Redis (in a key space of the test's own) and the test database: the whole saga, for one test.
final class SagaFixture: Sendable {
    static let logger = Logger(label: "saga-tests")

    let postgres: PostgresClient
    let redis: RedisClient
    let gateway: GatewayComponents
    let bookingPort: Int
    let paymentsPort: Int
    let booking: BookingConfiguration
    let payments: PaymentsConfiguration
    let catalog: Catalog
    let inventory: Inventory
    private let running: Mutex<[String: Task<Void, any Error>]> = Mutex([:])
    /// Services or workers that stopped on their own, with why: reported by ``with(hold:paymentGrace:_:)``.
    private let crashes: Mutex<[String]> = Mutex([])

    var bookingURL: String { "http://127.0.0.1:\(bookingPort)" }
    var paymentsURL: String { "http://127.0.0.1:\(paymentsPort)" }

    private init(
        postgres: PostgresClient, redis: RedisClient, gateway: GatewayComponents, bookingPort: Int, paymentsPort: Int, hold: Duration, paymentGrace: Duration
    ) {
        self.postgres = postgres
        self.redis = redis
        self.gateway = gateway
        self.bookingPort = bookingPort
        self.paymentsPort = paymentsPort
        self.booking = BookingConfiguration(paymentsURL: "http://127.0.0.1:\(paymentsPort)", hold: hold, paymentGrace: paymentGrace)
        self.payments = PaymentsConfiguration(
            bookingURL: "http://127.0.0.1:\(bookingPort)", processor: TestCardProcessor(delay: .milliseconds(500)),
            backoff: .init(base: .milliseconds(100), maximum: .milliseconds(500))
        )
        self.inventory = Inventory(redis: redis)
        self.catalog = Catalog(postgres: postgres, inventory: inventory, hold: hold, logger: Self.logger)
    }

    /// Runs `body` with every part started; stops them all afterwards.
    static func with(
        hold: Duration = .seconds(600), paymentGrace: Duration = .seconds(900), _ body: @Sendable (SagaFixture) async throws -> Void
    ) async throws {
        let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] ?? "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush_test"
        try await withPostgresClient(configuration: try PostgresClient.Configuration(url: url), logger: logger) { postgres in
            try await MigrationRunner(migrations: try Migration.embedded(), logger: logger).run(on: postgres)
            let redis = RedisClient(configuration: try TestRedis.configuration())
            let bookingPort = try await freePort()
            let paymentsPort = try await freePort(except: bookingPort)
            let routes = RouteTable(routes: [
                ProxyRoute(name: "bookings", prefix: "/api/v1/bookings", upstreams: ["http://127.0.0.1:\(bookingPort)"], service: ServiceName.booking, authentication: .required),
                ProxyRoute(name: "payments", prefix: "/api/v1/payments", upstreams: ["http://127.0.0.1:\(paymentsPort)"], service: ServiceName.payments, authentication: .required),
            ])
            let gateway = await GatewayComponents.make(
                configuration: GatewayConfiguration(port: 0, releaseInterval: .zero, routes: routes),
                redis: redis, accounts: nil, logger: logger
            )
            let fixture = SagaFixture(postgres: postgres, redis: redis, gateway: gateway, bookingPort: bookingPort, paymentsPort: paymentsPort, hold: hold, paymentGrace: paymentGrace)
            do {
                try await fixture.startBooking()
                try await fixture.startPayments()
                try await body(fixture)
            } catch {
                await fixture.stopAll()
                fixture.reportCrashes()
                throw error
            }
            await fixture.stopAll()
            fixture.reportCrashes()
        }
    }

    /// Starts (or restarts) the booking service and its workers on its port.
    func startBooking() async throws {
        let app = buildBookingApplication(
            address: .init(port: bookingPort), redis: redis, postgres: postgres, configuration: booking, logger: Self.logger
        )
        try await start("booking", app, workers: bookingWorkers(redis: redis, postgres: postgres, configuration: booking, logger: Self.logger), url: bookingURL)
    }

    func startPayments() async throws {
        let app = buildPaymentsApplication(address: .init(port: paymentsPort), postgres: postgres, configuration: payments, logger: Self.logger)
        try await start("payments", app, workers: paymentsWorkers(postgres: postgres, configuration: payments, logger: Self.logger), url: paymentsURL)
    }

    /// Stops a service and its workers at once, as a crash would.
    func kill(_ name: String) async {
        guard let task = running.withLock({ $0.removeValue(forKey: name) }) else { return }
        task.cancel()
        _ = try? await task.value
    }

    /// Stops every service and worker, then deletes every key of the test's key space.
    func stopAll() async {
        for name in running.withLock({ Array($0.keys) }) { await kill(name) }
        try? await gateway.httpClient.shutdown()
        await TestRedis.deleteKeySpace(of: redis)
    }

    /// A service or worker that stopped while the test still needed it fails the test, naming
    /// what stopped and why, instead of leaving it to time out later.
    private func reportCrashes() {
        for crash in crashes.withLock({ $0 }) { Issue.record("\(crash)") }
    }

    private func start(_ name: String, _ app: some ApplicationProtocol, workers: [any Service], url: String) async throws {
        let task = Task { [self] in
            do {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await app.runService(gracefulShutdownSignals: []) }
                    for worker in workers { group.addTask { try await worker.run() } }
                }
                if !Task.isCancelled { self.crashes.withLock { $0.append("\(name) stopped on its own") } }
            } catch {
                if !Task.isCancelled { self.crashes.withLock { $0.append("\(name) crashed: \(error)") } }
                throw error
            }
        }
        running.withLock { $0[name] = task }
        for _ in 0..<100 {
            if let crash = crashes.withLock({ $0.first { $0.hasPrefix(name + " ") } }) { throw ServiceCrashed(description: crash) }
            if (try? await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/health"), timeout: .seconds(1)))?.status == .ok { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CancellationError()
    }

    /// A published event `saga-<random>` with one zone `floor` of `seats` at 50.00 EUR.
    func event(seats: Int, maxPerUser: Int = 10) async throws -> String {
        let event = "saga-\(UUID().uuidString.prefix(8).lowercased())"
        try await catalog.create(CatalogEvent(
            id: event, name: "Saga", venue: "Loopback", startsAt: Date().addingTimeInterval(86_400), maxPerUser: maxPerUser,
            zones: [CatalogZone(id: "floor", name: "Floor", priceMinor: 5_000, currency: "EUR", capacity: seats)]
        ), organizer: "org")
        try await catalog.publish(event: event)
        return event
    }

    /// Polls `condition` every 50 ms for up to `limit`.
    func eventually(within limit: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// A loopback port free at the moment, below Linux's ephemeral range (32768–60999): a port
    /// the kernel handed out for `bind(0)` can be taken by an outgoing connection before the
    /// service binds it ("Address already in use"), one from below the range only by another listener.
    static func freePort(except taken: Int? = nil) async throws -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20_000..<32_000)
            guard port != taken,
                  let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: port).get()
            else { continue }
            try await channel.close()
            return port
        }
        throw ServiceCrashed(description: "no free loopback port below the ephemeral range")
    }
}
