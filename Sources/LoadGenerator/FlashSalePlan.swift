import Foundation

/// What one flash sale simulates: a scenario's defaults, overridable from the command line.
struct FlashSalePlan: Sendable, Codable {
    enum Arrival: String, Sendable, Codable {
        /// `arrivalRate` visitors a second from the start.
        case steady
        /// From 0 up to `arrivalRate` a second, linearly, over the run.
        case ramp
        /// Everyone within the first second.
        case spike
    }

    var scenario: String
    var event: String
    var zone = "floor"
    var users: Int
    var seats: Int
    var quantity = 1
    var arrival: Arrival
    var arrivalRate: Double
    var releaseRate: Double
    var idleTimeout = 60
    var maxPollMilliseconds = 1_000
    /// Visitors who join and then stop polling (every n-th visitor).
    var abandoning = 0
    var pay = true
    /// Reserve with the same Idempotency-Key twice at once and once more after.
    var retries = false
    /// Every admitted visitor waits for the others, then all reserve at once.
    var herd = false

    /// The scenarios of the seed's load tests.
    static func preset(_ name: String, event: String) -> FlashSalePlan? {
        switch name {
        case "smoke":
            FlashSalePlan(scenario: name, event: event, users: 100, seats: 60, arrival: .steady, arrivalRate: 100, releaseRate: 100)
        case "ramp-up":
            FlashSalePlan(scenario: name, event: event, users: 2_000, seats: 1_500, arrival: .ramp, arrivalRate: 400, releaseRate: 300)
        case "sustained":
            FlashSalePlan(scenario: name, event: event, users: 3_000, seats: 2_000, arrival: .steady, arrivalRate: 200, releaseRate: 150)
        case "spike":
            FlashSalePlan(scenario: name, event: event, users: 2_000, seats: 1_000, arrival: .spike, arrivalRate: 2_000, releaseRate: 250)
        case "sold-out":
            FlashSalePlan(scenario: name, event: event, users: 2_000, seats: 200, arrival: .spike, arrivalRate: 2_000, releaseRate: 1_000, pay: false, herd: true)
        case "last-seat":
            FlashSalePlan(scenario: name, event: event, users: 300, seats: 1, arrival: .spike, arrivalRate: 300, releaseRate: 1_000, pay: false, herd: true)
        case "idempotent-retries":
            FlashSalePlan(scenario: name, event: event, users: 500, seats: 1_000, arrival: .steady, arrivalRate: 250, releaseRate: 250, retries: true)
        case "abandonment":
            FlashSalePlan(
                scenario: name, event: event, users: 600, seats: 600, arrival: .spike, arrivalRate: 600, releaseRate: 40,
                idleTimeout: 5, abandoning: 10
            )
        default:
            nil
        }
    }

    static let scenarios = ["smoke", "ramp-up", "sustained", "spike", "sold-out", "last-seat", "idempotent-retries", "abandonment"]

    /// Seconds after the start at which visitor `index` arrives.
    func arrivalOffset(of index: Int) -> Double {
        switch arrival {
        case .steady: Double(index) / arrivalRate
        case .spike: Double(index) / Double(max(users, 1))
        case .ramp:
            // Rate grows linearly to arrivalRate at the end: arrivals(t) = rate·t²/(2T), T = 2·users/rate.
            (2 * Double(users) / arrivalRate * 2 * Double(index) / arrivalRate).squareRoot()
        }
    }

    /// Whether visitor `index` abandons the queue after joining.
    func abandons(_ index: Int) -> Bool {
        abandoning > 0 && index % abandoning == abandoning - 1
    }
}
