import Foundation
import Histogram
import Synchronization

/// The steps of a visitor's journey, each with its own latency histogram.
enum FlashSaleStep: String, CaseIterable, Sendable, Codable {
    case join, status, reserve, intent, confirm, wait = "queue_wait"
}

/// Everything the visitors report while a flash sale runs; shared by every visitor task.
final class FlashSaleRecorder: Sendable {
    struct State {
        var histograms: [FlashSaleStep: Histogram<UInt64>] = Dictionary(uniqueKeysWithValues: FlashSaleStep.allCases.map {
            ($0, Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three))
        })
        var counts: [String: Int] = [:]
        var errors: [String: Int] = [:]
        var fairness: [Fairness.Sample] = []
        var bookings: [String: Set<String>] = [:]
    }

    let started = ContinuousClock.now
    private let state = Mutex(State())

    /// Nanoseconds since the run began.
    var elapsed: UInt64 {
        let duration = ContinuousClock.now - started
        return UInt64(duration.components.seconds) * 1_000_000_000 + UInt64(duration.components.attoseconds / 1_000_000_000)
    }

    func record(_ step: FlashSaleStep, since start: ContinuousClock.Instant) {
        let micros = (ContinuousClock.now - start) / .microseconds(1)
        state.withLock { _ = $0.histograms[step]?.record(UInt64(max(0, micros))) }
    }

    func count(_ name: String, by amount: Int = 1) {
        state.withLock { $0.counts[name, default: 0] += amount }
    }

    func error(_ step: FlashSaleStep, _ kind: String) {
        state.withLock { $0.errors["\(step.rawValue): \(kind)", default: 0] += 1 }
    }

    func admitted(_ sample: Fairness.Sample) {
        state.withLock { $0.fairness.append(sample) }
    }

    func booked(visitor: Int, booking: String) {
        state.withLock { _ = $0.bookings["\(visitor)", default: []].insert(booking) }
    }

    func snapshot() -> State { state.withLock { $0 } }

    func counted(_ name: String) -> Int { state.withLock { $0.counts[name] ?? 0 } }

    /// Errors of every kind so far, without copying the histograms.
    var errorCount: Int { state.withLock { $0.errors.values.reduce(0, +) } }
}

/// Lets every admitted visitor reserve at the same instant (the last-seat race and the herd).
actor StartingLine {
    private let expected: Int
    private var arrived = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(expected: Int) { self.expected = expected }

    func arrive() async {
        arrived += 1
        if arrived >= expected {
            for continuation in waiting { continuation.resume() }
            waiting.removeAll()
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Releases whoever is waiting (some visitors will never arrive: lost or failed).
    func open() {
        arrived = max(arrived, expected)
        for continuation in waiting { continuation.resume() }
        waiting.removeAll()
    }
}
