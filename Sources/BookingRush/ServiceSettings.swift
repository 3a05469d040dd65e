import ArgumentParser
import Booking
import Foundation
import Gateway
import Payments
import ServiceKit

/// A secret from the environment (at least 32 bytes), or `fallback` (for development) when unset.
func secret(_ name: String, fallback: [UInt8]) throws -> [UInt8] {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return fallback }
    guard value.utf8.count >= 32 else { throw ValidationError("\(name) must be at least 32 bytes") }
    return Array(value.utf8)
}

/// The URL of another service (or a trace collector) from the environment variable `name`, nil
/// when it is unset or empty; a value that is not an `http://` or `https://` URL with a host
/// (`localhost:8082`) stops the start (exit status 64) instead of failing every call later.
func serviceURL(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
    guard let value = environment[name], !value.isEmpty else { return nil }
    guard ServiceBaseURL.isValid(value) else {
        throw ValidationError("\(name) must be an http:// or https:// URL with a host (and at most a port and a path), not '\(value.prefix(80))'")
    }
    return value
}

/// The gateway's settings (``GatewayConfiguration/fromEnvironment(host:port:routesPath:environment:)``);
/// one it cannot start with ends the process with exit status 64, as every other setting does.
func gatewayConfiguration(host: String, port: Int, routesPath: String?) throws -> GatewayConfiguration {
    do {
        return try GatewayConfiguration.fromEnvironment(host: host, port: port, routesPath: routesPath)
    } catch let error as GatewayConfigurationError {
        throw ValidationError(error.description)
    }
}

/// The booking service's settings: `INTERNAL_SECRET`, `WEBHOOK_SECRET`, `PAYMENTS_URL` and
/// `HOLD_SECONDS` (30 s to 1 h, 600 by default) and `PAYMENT_GRACE_SECONDS` (60 s to 1 h, 900).
func bookingConfiguration(paymentsURL: String? = nil) throws -> BookingConfiguration {
    BookingConfiguration(
        internalSecret: try secret("INTERNAL_SECRET", fallback: GatewaySignature.developmentSecret),
        webhookSecret: try secret("WEBHOOK_SECRET", fallback: PaymentsConfiguration.developmentWebhookSecret),
        paymentsURL: try serviceURL("PAYMENTS_URL") ?? paymentsURL ?? "http://127.0.0.1:8082",
        hold: .seconds(environmentInteger("HOLD_SECONDS", default: 600, in: 30...3_600, unit: "seconds")),
        paymentGrace: .seconds(environmentInteger("PAYMENT_GRACE_SECONDS", default: 900, in: 60...3_600, unit: "seconds"))
    )
}

/// The payments service's settings: `INTERNAL_SECRET`, `WEBHOOK_SECRET`, `BOOKING_URL` and
/// `PAYMENTS_WEBHOOK_URL` (default: the booking service's `/webhooks/payments`).
func paymentsConfiguration(bookingURL: String? = nil) throws -> PaymentsConfiguration {
    PaymentsConfiguration(
        bookingURL: try serviceURL("BOOKING_URL") ?? bookingURL ?? "http://127.0.0.1:8081",
        webhookURL: try serviceURL("PAYMENTS_WEBHOOK_URL"),
        webhookSecret: try secret("WEBHOOK_SECRET", fallback: PaymentsConfiguration.developmentWebhookSecret),
        internalSecret: try secret("INTERNAL_SECRET", fallback: GatewaySignature.developmentSecret)
    )
}

/// Which service's secrets a command needs.
enum SecretUse {
    case gateway, booking, payments, all

    var secrets: [ProductionSecrets.Secret] {
        let development = { (bytes: [UInt8]) in String(decoding: bytes, as: UTF8.self) }
        let admin = ProductionSecrets.Secret(name: "ADMIN_TOKEN", developmentValue: GatewayConfiguration.developmentAdminToken)
        let tickets = ProductionSecrets.Secret(name: "VISITOR_TICKET_SECRET", developmentValue: development(GatewayConfiguration.developmentTicketSecret))
        let internalSecret = ProductionSecrets.Secret(name: "INTERNAL_SECRET", developmentValue: development(GatewaySignature.developmentSecret))
        let webhook = ProductionSecrets.Secret(name: "WEBHOOK_SECRET", developmentValue: development(PaymentsConfiguration.developmentWebhookSecret))
        return switch self {
        case .gateway: [admin, tickets, internalSecret]
        case .booking, .payments: [internalSecret, webhook]
        case .all: [admin, tickets, internalSecret, webhook]
        }
    }
}

/// Why a service would not start.
struct StartupRefused: Error, CustomStringConvertible {
    var description: String
}

/// Refuses to go on in production mode (`BOOKING_RUSH_ENV=production`) while a secret the
/// command uses is missing or still its development default; names them, never their values.
func refuseDevelopmentSecrets(_ use: SecretUse) throws {
    let problems = ProductionSecrets.problems(use.secrets, environment: ProcessInfo.processInfo.environment)
    guard problems.isEmpty else {
        throw StartupRefused(description: "refusing to start in production mode: " + problems.joined(separator: "; "))
    }
}
