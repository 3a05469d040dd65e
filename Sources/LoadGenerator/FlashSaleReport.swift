import Foundation
import Histogram

/// The outcome of a flash sale, as a text table and as JSON.
struct FlashSaleReport: Encodable {
    struct Latency: Encodable {
        var count: UInt64
        var p50Milliseconds: Double
        var p90Milliseconds: Double
        var p99Milliseconds: Double
        var maxMilliseconds: Double

        enum CodingKeys: String, CodingKey {
            case count, p50Milliseconds = "p50_ms", p90Milliseconds = "p90_ms", p99Milliseconds = "p99_ms", maxMilliseconds = "max_ms"
        }
    }

    var plan: FlashSalePlan
    var seconds: Double
    var counts: [String: Int]
    var latency: [String: Latency]
    var errors: [String: Int]
    var capacity: Int
    var sold: Int
    var held: Int
    var available: Int
    /// Seats sold or held beyond capacity, or bookings the clients got beyond capacity. Must be 0.
    var oversold: Int
    /// Visitors whose (retried) reservation produced more than one booking. Must be 0.
    var duplicateBookings: Int
    var admittedSamples: Int
    var definiteInversions: Int
    var kendallTau: Double
    var abandonment: [String: Int]

    enum CodingKeys: String, CodingKey {
        case plan, seconds, counts, latency, errors, capacity, sold, held, available, oversold
        case duplicateBookings = "duplicate_bookings", admittedSamples = "admitted_samples", definiteInversions = "definite_inversions"
        case kendallTau = "kendall_tau", abandonment
    }

    init(plan: FlashSalePlan, seconds: Double, recorder: FlashSaleRecorder.State, inventory: [String: Int], abandonment: [String: Int]) {
        self.plan = plan
        self.seconds = seconds
        self.counts = recorder.counts
        self.errors = recorder.errors
        self.latency = Dictionary(uniqueKeysWithValues: recorder.histograms.compactMap { step, histogram in
            histogram.totalCount == 0 ? nil : (step.rawValue, Latency(
                count: histogram.totalCount,
                p50Milliseconds: Double(histogram.valueAtPercentile(50)) / 1000,
                p90Milliseconds: Double(histogram.valueAtPercentile(90)) / 1000,
                p99Milliseconds: Double(histogram.valueAtPercentile(99)) / 1000,
                maxMilliseconds: Double(histogram.max) / 1000
            ))
        })
        capacity = inventory["capacity"] ?? plan.seats
        sold = inventory["sold"] ?? 0
        held = inventory["held"] ?? 0
        available = inventory["available"] ?? 0
        let booked = recorder.bookings.values.reduce(0) { $0 + $1.count } * plan.quantity
        oversold = max(0, sold + held - capacity, booked - capacity, -available)
        duplicateBookings = recorder.bookings.values.filter { $0.count > 1 }.count
        admittedSamples = recorder.fairness.count
        definiteInversions = Fairness.definiteInversions(recorder.fairness)
        kendallTau = Fairness.kendallTau(recorder.fairness)
        self.abandonment = abandonment
    }

    func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    var text: String {
        func rate(_ name: String) -> String { String(format: "%.0f/s", Double(counts[name] ?? 0) / max(seconds, 0.001)) }
        var lines = [
            "flash sale '\(plan.scenario)' on \(plan.event): \(plan.users) visitors (\(plan.arrival.rawValue), \(Int(plan.arrivalRate))/s), "
                + "\(plan.seats) seats × \(plan.quantity), release \(plan.releaseRate)/s — \(String(format: "%.1f", seconds)) s",
            "",
            "| step | count | p50 ms | p90 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for step in FlashSaleStep.allCases {
            guard let figures = latency[step.rawValue] else { continue }
            lines.append(String(
                format: "| %@ | %llu | %.1f | %.1f | %.1f | %.1f |", step.rawValue, figures.count,
                figures.p50Milliseconds, figures.p90Milliseconds, figures.p99Milliseconds, figures.maxMilliseconds
            ))
        }
        lines += [
            "",
            "joined \(counts["joined"] ?? 0) (\(rate("joined"))), admitted \(counts["admitted"] ?? 0), reserved \(counts["reserved"] ?? 0), "
                + "sold out \(counts["sold_out"] ?? 0), paid \(counts["paid"] ?? 0) (\(rate("paid")))",
            "seats: capacity \(capacity), sold \(sold), held \(held), available \(available) — oversold \(oversold), duplicate bookings \(duplicateBookings)",
            String(format: "fairness: %d admitted visitors, %d definite inversions, Kendall tau %.4f", admittedSamples, definiteInversions, kendallTau),
        ]
        if plan.abandoning > 0 || (counts["lost_place"] ?? 0) > 0 {
            let outcomes = abandonment.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("abandonment: \(counts["abandoned_on_purpose"] ?? 0) went silent (\(outcomes)); \(counts["lost_place"] ?? 0) pollers lost their place")
        }
        lines.append(errors.isEmpty ? "errors: none" : "errors: " + errors.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
