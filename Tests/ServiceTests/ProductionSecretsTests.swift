import Foundation
import ServiceKit
import Testing

@Suite("Production mode refuses development secrets")
struct ProductionSecretsTests {
    static let secrets = [
        ProductionSecrets.Secret(name: "ADMIN_TOKEN", developmentValue: "dev-admin-token"),
        ProductionSecrets.Secret(name: "INTERNAL_SECRET", developmentValue: "development-internal-secret"),
    ]

    @Test("missing and default secrets are named in production, and nothing is asked outside it")
    func check() {
        #expect(ProductionSecrets.problems(Self.secrets, environment: [:]) == [])
        #expect(ProductionSecrets.problems(Self.secrets, environment: ["BOOKING_RUSH_ENV": "development"]) == [])
        let problems = ProductionSecrets.problems(Self.secrets, environment: ["BOOKING_RUSH_ENV": "Production", "ADMIN_TOKEN": "dev-admin-token"])
        #expect(problems == ["ADMIN_TOKEN is the development default", "INTERNAL_SECRET is not set"])
        let fine = ProductionSecrets.problems(Self.secrets, environment: [
            "BOOKING_RUSH_ENV": "production", "ADMIN_TOKEN": "a-real-admin-token-0123", "INTERNAL_SECRET": String(repeating: "s", count: 40),
        ])
        #expect(fine == [])
    }

    @Test("booking-rush gateway exits at once in production mode with default secrets, naming them without their values")
    func binaryRefuses() async throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let binary = try #require(
            [directory, directory.deletingLastPathComponent()].map { $0.appendingPathComponent("booking-rush") }
                .first { FileManager.default.isExecutableFile(atPath: $0.path) },
            "the booking-rush binary is built beside the tests"
        )
        let process = Process()
        process.executableURL = binary
        process.arguments = ["gateway", "--port", "0"]
        process.environment = [
            "BOOKING_RUSH_ENV": "production", "ADMIN_TOKEN": "dev-admin-token",
            "VISITOR_TICKET_SECRET": "a-real-visitor-ticket-secret-0123456789", "PATH": "/usr/bin:/bin",
        ]
        let output = Pipe()
        process.standardError = output
        process.standardOutput = output
        try process.run()
        let started = ContinuousClock.now
        while process.isRunning, ContinuousClock.now - started < .seconds(10) { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(text.contains("refusing to start in production mode"))
        #expect(text.contains("ADMIN_TOKEN is the development default"))
        #expect(text.contains("INTERNAL_SECRET is not set"))
        #expect(!text.contains("WEBHOOK_SECRET"), "the gateway does not use the webhook secret")
        #expect(!text.contains("Usage:"))
        #expect(!text.contains("VISITOR_TICKET_SECRET"), "a secret that is set properly is not mentioned")
        #expect(!text.contains("a-real-visitor-ticket-secret"), "values are never printed")
    }
}
