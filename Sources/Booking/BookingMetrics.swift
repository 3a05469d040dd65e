import Metrics
import Synchronization

/// Reservations and sales as metrics: what the Grafana dashboard's booking panels plot.
enum BookingMetrics {
    /// A reservation attempt: `held`, or the error that refused it (`soldOut`, `overLimit`, ...).
    static func reservation(event: String, outcome: String, seats: Int = 0) {
        reservations.counter(outcome).increment()
        if seats > 0 { seatsHeld.counter(event).increment(by: seats) }
    }

    /// The handles of every reservation, made once per outcome and per event and kept (the
    /// factory's lookup costs more than the increment).
    private static let reservations = Counters(label: "booking_reservations_total", dimension: "outcome")
    private static let seatsHeld = Counters(label: "booking_seats_held_total", dimension: "event")

    /// One counter per value of one dimension, made on first use.
    private final class Counters: Sendable {
        let label: String
        let dimension: String
        private let made = Mutex<[String: Metrics.Counter]>([:])

        init(label: String, dimension: String) {
            self.label = label
            self.dimension = dimension
        }

        func counter(_ value: String) -> Metrics.Counter {
            made.withLock { made in
                if let counter = made[value] { return counter }
                let counter = Metrics.Counter(label: label, dimensions: [(dimension, value)])
                made[value] = counter
                return counter
            }
        }
    }

    /// A booking event Postgres refused, moved to the event's dead-letter stream.
    static func deadLettered(event: String) {
        Metrics.Counter(label: "booking_events_dead_lettered_total", dimensions: [("event", event)]).increment()
    }

    static func confirmed(event: String) {
        Metrics.Counter(label: "booking_confirmations_total", dimensions: [("event", event)]).increment()
    }

    /// The error's case name, without associated values.
    static func outcome(of error: BookingError) -> String {
        String(String(describing: error).prefix { $0 != "(" })
    }
}
