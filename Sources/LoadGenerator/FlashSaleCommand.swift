import ArgumentParser
import Foundation
import Gateway
import Redis

/// `rush-load flash-sale`: a flash sale end to end through the gateway. Visitors join the waiting
/// room at the arrival rate, poll until admitted, reserve with their pass and pay with a test card;
/// the report gives throughput, latency per step, sold vs capacity, fairness and errors by kind.
struct FlashSaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flash-sale",
        abstract: "Simulate a flash sale through the gateway and report throughput, latency, overselling and fairness.",
        discussion: "Scenarios: \(FlashSalePlan.scenarios.joined(separator: ", ")). Options override the scenario's figures."
    )

    @Option(help: "Scenario") var scenario = "smoke"
    @Option(help: "Gateway base URL") var gateway = "http://127.0.0.1:8080"
    @Option(help: "Redis URL (the gateway's; access tokens are signed with its key ring)")
    var redis = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:16379/0"
    @Option(help: "Admin token of the gateway (default: $ADMIN_TOKEN or the development token)")
    var adminToken = ProcessInfo.processInfo.environment["ADMIN_TOKEN"] ?? GatewayConfiguration.developmentAdminToken
    @Option(help: "Issuer (the gateway's PASS_ISSUER)") var issuer = ProcessInfo.processInfo.environment["PASS_ISSUER"] ?? "booking-rush"
    @Option(help: "Visitors") var users: Int?
    @Option(help: "Seats on sale (one zone)") var seats: Int?
    @Option(help: "Seats per reservation") var quantity: Int?
    @Option(help: "Visitors arriving per second") var arrivalRate: Double?
    @Option(help: "Waiting-room release rate (visitors per second)") var releaseRate: Double?
    @Option(help: "Every n-th visitor abandons after joining (0: nobody)") var abandonEvery: Int?
    @Option(help: "Seconds a silent visitor keeps the place") var idleTimeout: Int?
    @Option(help: "Connections to the gateway") var connections = 512
    @Option(help: "Write the results as JSON to this file") var json: String?
    @Flag(help: "Stop after the reservation (no payment)") var noPay = false

    func run() async throws {
        let event = "sale-\(UUID().uuidString.prefix(8).lowercased())"
        guard var plan = FlashSalePlan.preset(scenario, event: event) else {
            throw ValidationError("unknown scenario '\(scenario)'; one of \(FlashSalePlan.scenarios.joined(separator: ", "))")
        }
        if let users { plan.users = users }
        if let seats { plan.seats = seats }
        if let quantity { plan.quantity = quantity }
        if let arrivalRate { plan.arrivalRate = arrivalRate }
        if let releaseRate { plan.releaseRate = releaseRate }
        if let abandonEvery { plan.abandoning = abandonEvery }
        if let idleTimeout { plan.idleTimeout = idleTimeout }
        if noPay { plan.pay = false }
        guard plan.users > 0, plan.seats > 0, plan.quantity > 0, plan.arrivalRate > 0, plan.releaseRate > 0 else {
            throw ValidationError("users, seats, quantity and the rates must be positive")
        }

        let redisClient = RedisClient(configuration: try RedisConfiguration(url: redis))
        let tokens = try await AccessTokenMinter(redis: redisClient, issuer: issuer)
        let organizer = try await tokens.token(for: "\(event)-organizer", roles: ["admin"])
        var visitorTokens: [String] = []
        for index in 0..<plan.users { visitorTokens.append(try await tokens.token(for: "\(event)-visitor-\(index)", roles: ["customer"])) }
        await redisClient.shutdown()

        let client = LoadClient(base: gateway, connections: connections)
        do {
            let setup = FlashSaleSetup(client: client, plan: plan, organizer: organizer, adminToken: adminToken)
            try await setup.prepare()
            let recorder = FlashSaleRecorder()
            let progress = Task { await Self.showProgress(recorder, plan: plan) }
            let elapsed = await Self.simulate(plan: plan, tokens: visitorTokens, client: client, recorder: recorder)
            progress.cancel()
            let abandonment = try await setup.checkAbandoners(tokens: visitorTokens, elapsedSeconds: elapsed)
            let inventory = try await setup.inventory(paidSeats: recorder.counted("paid") * plan.quantity)
            let report = FlashSaleReport(plan: plan, seconds: elapsed, recorder: recorder.snapshot(), inventory: inventory, abandonment: abandonment)
            print(report.text)
            if let json { try report.jsonData().write(to: URL(fileURLWithPath: json)) }
            try await client.shutdown()
            if report.oversold > 0 || report.duplicateBookings > 0 { throw ExitCode(3) }
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Starts every visitor at their arrival time and waits for all; returns the seconds taken.
    static func simulate(plan: FlashSalePlan, tokens: [String], client: LoadClient, recorder: FlashSaleRecorder) async -> Double {
        let staying = plan.users - (0..<plan.users).filter(plan.abandons).count
        let startingLine = plan.herd ? StartingLine(expected: staying) : nil
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<plan.users {
                let due = start + .nanoseconds(Int64(plan.arrivalOffset(of: index) * 1e9))
                if due > .now { try? await Task.sleep(until: due) }
                let visitor = FlashSaleVisitor(index: index, token: tokens[index], plan: plan, client: client, recorder: recorder, startingLine: startingLine)
                group.addTask { await visitor.run() }
            }
            if let startingLine {
                // Visitors who failed before the line never arrive: open it once the queue is drained.
                group.addTask {
                    while recorder.counted("admitted") + recorder.errorCount < staying {
                        try? await Task.sleep(for: .milliseconds(200))
                        if ContinuousClock.now - start > .seconds(Double(plan.users) / plan.releaseRate + 30) { break }
                    }
                    await startingLine.open()
                }
            }
            await group.waitForAll()
        }
        return (ContinuousClock.now - start) / .seconds(1)
    }

    /// One line a second on a terminal: joined, admitted, reserved, paid, errors.
    static func showProgress(_ recorder: FlashSaleRecorder, plan: FlashSalePlan) async {
        guard isatty(STDERR_FILENO) == 1 else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let counted = { (name: String) in recorder.counted(name) }
            let done = Double(counted("joined")) / Double(plan.users)
            let bar = String(repeating: "#", count: Int(done * 30)).padding(toLength: 30, withPad: "-", startingAt: 0)
            let line = "[\(bar)] joined \(counted("joined"))/\(plan.users) admitted \(counted("admitted")) "
                + "reserved \(counted("reserved")) paid \(counted("paid")) errors \(recorder.errorCount)"
            FileHandle.standardError.write(Data(("\r" + line).utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
