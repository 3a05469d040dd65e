/// Fairness of a waiting room, measured from the visitors' side: does admission follow join order?
enum Fairness {
    /// One admitted visitor: when their join request was sent and answered (ns since the run
    /// began) and their admission number (the pass's `jti`).
    struct Sample: Sendable, Hashable {
        var joinSent: UInt64
        var joinAnswered: UInt64
        var admission: Int
    }

    /// Pairs where one visitor's join was answered before the other's was even sent (so the
    /// first certainly joined first) and yet was admitted later. A FIFO room has none.
    static func definiteInversions(_ samples: [Sample]) -> Int {
        guard samples.count > 1 else { return 0 }
        let bySent = samples.sorted { $0.joinSent < $1.joinSent }
        let byAnswered = samples.sorted { $0.joinAnswered < $1.joinAnswered }
        let ranks = Dictionary(samples.map(\.admission).sorted().enumerated().map { ($1, $0 + 1) }, uniquingKeysWith: { first, _ in first })
        var tree = FenwickTree(size: ranks.count)
        var inserted = 0
        var next = 0
        var inversions = 0
        for later in bySent {
            while next < byAnswered.count, byAnswered[next].joinAnswered < later.joinSent {
                tree.add(ranks[byAnswered[next].admission]!)
                inserted += 1
                next += 1
            }
            inversions += inserted - tree.prefixSum(ranks[later.admission]!)
        }
        return inversions
    }

    /// Kendall's tau-b between join order (join answered) and admission order: 1 is perfectly
    /// fair, 0 is a lottery. Ties count as neither concordant nor discordant.
    static func kendallTau(_ samples: [Sample]) -> Double {
        let n = samples.count
        guard n > 1 else { return 1 }
        let sorted = samples.sorted { ($0.joinAnswered, $0.admission) < ($1.joinAnswered, $1.admission) }
        let pairs = Double(n) * Double(n - 1) / 2
        let tiesJoin = tiePairs(sorted.map(\.joinAnswered))
        let tiesBoth = tiePairs(sorted.map { "\($0.joinAnswered):\($0.admission)" })
        var admissions = sorted.map(\.admission)
        let discordant = Double(mergeCountingSwaps(&admissions[...]))
        let tiesAdmission = tiePairs(admissions)
        let concordantMinusDiscordant = pairs - tiesJoin - tiesAdmission + tiesBoth - 2 * discordant
        let denominator = ((pairs - tiesJoin) * (pairs - tiesAdmission)).squareRoot()
        return denominator == 0 ? 1 : concordantMinusDiscordant / denominator
    }

    private static func tiePairs<T: Hashable>(_ values: [T]) -> Double {
        var counts: [T: Int] = [:]
        for value in values { counts[value, default: 0] += 1 }
        return counts.values.reduce(0) { $0 + Double($1) * Double($1 - 1) / 2 }
    }

    /// Sorts `values` and returns how many strictly decreasing pairs it had.
    private static func mergeCountingSwaps(_ values: inout ArraySlice<Int>) -> Int {
        guard values.count > 1 else { return 0 }
        let middle = values.startIndex + values.count / 2
        var left = values[values.startIndex..<middle]
        var right = values[middle..<values.endIndex]
        var swaps = mergeCountingSwaps(&left) + mergeCountingSwaps(&right)
        var merged: [Int] = []
        merged.reserveCapacity(values.count)
        var i = left.startIndex, j = right.startIndex
        while i < left.endIndex, j < right.endIndex {
            if right[j] < left[i] {
                swaps += left.endIndex - i
                merged.append(right[j]); j += 1
            } else {
                merged.append(left[i]); i += 1
            }
        }
        merged.append(contentsOf: left[i...])
        merged.append(contentsOf: right[j...])
        values.replaceSubrange(values.startIndex..<values.endIndex, with: merged)
        return swaps
    }
}

/// Prefix sums over 1…size with point updates, in O(log size).
struct FenwickTree {
    private var nodes: [Int]

    init(size: Int) { nodes = Array(repeating: 0, count: size + 1) }

    mutating func add(_ index: Int) {
        var i = index
        while i < nodes.count { nodes[i] += 1; i += i & -i }
    }

    func prefixSum(_ index: Int) -> Int {
        var sum = 0, i = index
        while i > 0 { sum += nodes[i]; i -= i & -i }
        return sum
    }
}
