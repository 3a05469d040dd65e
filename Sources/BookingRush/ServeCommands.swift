import ArgumentParser
import Booking
import Database
import Foundation
import Gateway
import Hummingbird
import Logging
import Payments
import Queue
import PostgresNIO
import Redis
import ServiceKit
import ServiceLifecycle
import UnixSignals

/// `booking-rush gateway`: the public edge (waiting room, policies, reverse proxy).
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gateway", abstract: "Run the gateway.")

    @OptionGroup var connections: ConnectionOptions
    @Option(help: "Address to listen on") var host = "127.0.0.1"
    @Option(help: "Port to listen on (default: $GATEWAY_PORT or 8080)") var port = environmentInteger("GATEWAY_PORT", default: 8080, in: portNumbers)
    @Option(help: "Route table (JSON) of proxied routes (default: $GATEWAY_ROUTES)") var routes: String?
    @Flag(help: "Run without built-in accounts (no database; tokens from elsewhere only)") var withoutAccounts = false

    func validate() throws { try refusePorts(("--port", port)) }

    func run() async throws {
        try refuseDevelopmentSecrets(.gateway)
        let tracing = try tracingService(serviceName: "booking-rush-gateway")
        let logger = connections.logger("gateway")
        let redis = RedisClient(configuration: try connections.redisConfiguration(), logger: logger)
        let configuration = try gatewayConfiguration(host: host, port: port, routesPath: routes)
        var services: [any Service] = [tracing].compactMap { $0 } + [redis]
        var accounts: AccountStore?
        if !withoutAccounts {
            let postgres = PostgresClient(configuration: try connections.postgresConfiguration(), backgroundLogger: logger)
            services.append(postgres)
            accounts = AccountStore(postgres: postgres, bcryptCost: bcryptCost(), logger: logger)
        }
        services.append(try await buildGatewayApplication(configuration: configuration, redis: redis, accounts: accounts, logger: logger))
        try await runServices(services, logger: logger)
    }
}

/// `booking-rush booking`: catalog, inventory and reservations.
struct BookingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "booking", abstract: "Run the booking service.")

    @OptionGroup var connections: ConnectionOptions
    @Option(help: "Address to listen on") var host = "127.0.0.1"
    @Option(help: "Port to listen on (default: $BOOKING_PORT or 8081)") var port = environmentInteger("BOOKING_PORT", default: 8081, in: portNumbers)

    func validate() throws { try refusePorts(("--port", port)) }

    func run() async throws {
        try refuseDevelopmentSecrets(.booking)
        let tracing = try tracingService(serviceName: "booking-rush-booking")
        let logger = connections.logger("booking")
        let redis = RedisClient(configuration: try connections.redisConfiguration(), logger: logger)
        let postgres = PostgresClient(configuration: try connections.postgresConfiguration(), backgroundLogger: logger)
        let configuration = try bookingConfiguration()
        let app = buildBookingApplication(address: .init(host: host, port: port), redis: redis, postgres: postgres, configuration: configuration, logger: logger)
        try await runServices([tracing].compactMap { $0 } + [redis, postgres, app] + bookingWorkers(redis: redis, postgres: postgres, configuration: configuration, logger: logger), logger: logger)
    }
}

/// `booking-rush payments`: payment intents and webhooks.
struct PaymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "payments", abstract: "Run the payments service.")

    @OptionGroup var connections: ConnectionOptions
    @Option(help: "Address to listen on") var host = "127.0.0.1"
    @Option(help: "Port to listen on (default: $PAYMENTS_PORT or 8082)") var port = environmentInteger("PAYMENTS_PORT", default: 8082, in: portNumbers)

    func validate() throws { try refusePorts(("--port", port)) }

    func run() async throws {
        try refuseDevelopmentSecrets(.payments)
        let tracing = try tracingService(serviceName: "booking-rush-payments")
        let logger = connections.logger("payments")
        let postgres = PostgresClient(configuration: try connections.postgresConfiguration(), backgroundLogger: logger)
        let configuration = try paymentsConfiguration()
        let app = buildPaymentsApplication(address: .init(host: host, port: port), postgres: postgres, configuration: configuration, logger: logger)
        try await runServices([tracing].compactMap { $0 } + [postgres, app] + paymentsWorkers(postgres: postgres, configuration: configuration, logger: logger), logger: logger)
    }
}

/// `booking-rush dev`: migrates, then runs all three services in one process.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dev", abstract: "Migrate, then run gateway, booking and payments in one process.")

    @OptionGroup var connections: ConnectionOptions
    @Option(help: "Address to listen on") var host = "127.0.0.1"
    @Option(help: "Gateway port") var gatewayPort = environmentInteger("GATEWAY_PORT", default: 8080, in: portNumbers)
    @Option(help: "Booking service port") var bookingPort = environmentInteger("BOOKING_PORT", default: 8081, in: portNumbers)
    @Option(help: "Payments service port") var paymentsPort = environmentInteger("PAYMENTS_PORT", default: 8082, in: portNumbers)
    @Option(help: "Route table (JSON) of proxied routes (default: $GATEWAY_ROUTES)") var routes: String?

    func validate() throws { try refusePorts(("--gateway-port", gatewayPort), ("--booking-port", bookingPort), ("--payments-port", paymentsPort)) }

    func run() async throws {
        try refuseDevelopmentSecrets(.all)
        let tracing = try tracingService(serviceName: "booking-rush")
        let logger = connections.logger("dev")
        let postgresConfiguration = try connections.postgresConfiguration()
        let runner = try MigrationRunner(migrations: try Migration.embedded(), logger: logger)
        _ = try await withPostgresClient(configuration: postgresConfiguration, logger: logger) { try await runner.run(on: $0) }

        let redis = RedisClient(configuration: try connections.redisConfiguration(), logger: logger)
        try await seedDemoRoom(redis: redis, logger: logger)
        let admin = DemoAdmin.fromEnvironment()
        let booking = try bookingConfiguration(paymentsURL: "http://\(host):\(paymentsPort)")
        try await withPostgresClient(configuration: postgresConfiguration, logger: logger) { postgres in
            try await seedDemoEvent(Catalog(postgres: postgres, inventory: Inventory(redis: redis), hold: booking.hold, logger: logger), logger: logger)
            try await seedAdminAccount(admin, accounts: AccountStore(postgres: postgres, bcryptCost: bcryptCost(), logger: logger), logger: logger)
        }
        let postgres = PostgresClient(configuration: postgresConfiguration, backgroundLogger: logger)
        let accounts = AccountStore(postgres: postgres, bcryptCost: bcryptCost(), logger: logger)
        let payments = try paymentsConfiguration(bookingURL: "http://\(host):\(bookingPort)")
        let services: [any Service] = [tracing].compactMap { $0 } + [
            redis, postgres,
            try await buildGatewayApplication(
                configuration: try gatewayConfiguration(host: host, port: gatewayPort, routesPath: routes),
                redis: redis, accounts: accounts,
                logger: connections.logger("gateway")
            ),
            buildBookingApplication(
                address: .init(host: host, port: bookingPort), redis: redis, postgres: postgres, configuration: booking, logger: connections.logger("booking")
            ),
            buildPaymentsApplication(
                address: .init(host: host, port: paymentsPort), postgres: postgres, configuration: payments, logger: connections.logger("payments")
            ),
        ] + bookingWorkers(redis: redis, postgres: postgres, configuration: booking, logger: connections.logger("booking"))
            + paymentsWorkers(postgres: postgres, configuration: payments, logger: connections.logger("payments"))
        let gateway = "http://\(host):\(gatewayPort)"
        print("""
            booking-rush is running:
              shop (customer flow)  \(gateway)/shop/demo
              waiting room          \(gateway)/waiting-room/demo
              operator console      \(gateway)/admin/   (\(admin.email) / \(admin.passwordHint), or the ADMIN_TOKEN)
              admin API             \(gateway)/admin/v1/rooms   (Authorization: Bearer $ADMIN_TOKEN)
              metrics               \(gateway)/metrics  http://\(host):\(bookingPort)/metrics  http://\(host):\(paymentsPort)/metrics
              health                \(gateway)/health  http://\(host):\(bookingPort)/health  http://\(host):\(paymentsPort)/health
            Ctrl-C stops everything.
            """)
        try await runServices(services, logger: logger)
    }
}

/// The bcrypt cost for new passwords: `BCRYPT_COST` (10–16), 12 by default.
func bcryptCost() -> UInt8 {
    UInt8(environmentInteger("BCRYPT_COST", default: 12, in: 10...16))
}

/// Runs services until SIGINT or SIGTERM, then shuts them down gracefully: servers stop
/// accepting and drain in-flight requests for up to 30 s before the rest is cancelled. A
/// process whose services have not ended 10 s after that stops with a fatal error rather than
/// hang, and one that has not ended 45 s after the signal, even with its event loops frozen, is
/// ended by its ``ShutdownDeadline`` (Redis and the bookings stream keep what it had not persisted).
func runServices(_ services: [any Service], logger: Logger) async throws {
    let signals: [UnixSignal] = [.sigterm, .sigint]
    var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger)
    configuration.maximumGracefulShutdownDuration = .seconds(30)
    configuration.maximumCancellationDuration = .seconds(10)
    let deadline = ShutdownDeadline(limit: .seconds(45), logger: logger)
    let stopSignals = await UnixSignalsSequence(trapping: signals)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await deadline.watch(stopSignals) }
        try await ServiceGroup(configuration: configuration).run()
        group.cancelAll()
    }
}
