import Metrics

/// Reservations and sales as metrics: what the Grafana dashboard's booking panels plot.
enum BookingMetrics {
    /// A reservation attempt: `held`, or the error that refused it (`soldOut`, `overLimit`, ...).
    static func reservation(event: String, outcome: String, seats: Int = 0) {
        Metrics.Counter(label: "booking_reservations_total", dimensions: [("outcome", outcome)]).increment()
        if seats > 0 {
            Metrics.Counter(label: "booking_seats_held_total", dimensions: [("event", event)]).increment(by: seats)
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
