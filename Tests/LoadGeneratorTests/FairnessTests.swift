@testable import LoadGenerator
import Foundation
import Testing

@Suite("Fairness figures of the flash-sale load generator")
struct FairnessTests {
    /// Visitor i joins in [10i, 10i + 5] ns and gets admission number `admissions[i]`.
    static func samples(_ admissions: [Int]) -> [Fairness.Sample] {
        admissions.enumerated().map { index, admission in
            Fairness.Sample(joinSent: UInt64(index * 10), joinAnswered: UInt64(index * 10 + 5), admission: admission)
        }
    }

    @Test("FIFO admission has no inversions and tau 1; reversed has n(n-1)/2 and tau -1")
    func extremes() {
        let fifo = Self.samples(Array(1...50))
        #expect(Fairness.definiteInversions(fifo) == 0)
        #expect(Fairness.kendallTau(fifo) == 1)
        let reversed = Self.samples(Array((1...50).reversed()))
        #expect(Fairness.definiteInversions(reversed) == 50 * 49 / 2)
        #expect(abs(Fairness.kendallTau(reversed) + 1) < 1e-12)
    }

    @Test("inversions and tau match a brute-force count on random orders")
    func matchesBruteForce() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let count = Int.random(in: 2...120, using: &generator)
            let samples = (0..<count).map { _ in
                let sent = UInt64.random(in: 0...1_000, using: &generator)
                return Fairness.Sample(joinSent: sent, joinAnswered: sent + UInt64.random(in: 1...200, using: &generator), admission: 0)
            }.enumerated().map { index, sample in
                var sample = sample
                sample.admission = index + 1
                return sample
            }.shuffled(using: &generator)
            let admitted = zip(samples, (1...count).shuffled(using: &generator)).map { sample, admission in
                Fairness.Sample(joinSent: sample.joinSent, joinAnswered: sample.joinAnswered, admission: admission)
            }
            var inversions = 0
            var concordant = 0.0, discordant = 0.0, tiesJoin = 0.0
            for a in admitted {
                for b in admitted where a != b {
                    if a.joinAnswered < b.joinSent && a.admission > b.admission { inversions += 1 }
                }
            }
            for i in 0..<count {
                for j in (i + 1)..<count {
                    let (a, b) = (admitted[i], admitted[j])
                    if a.joinAnswered == b.joinAnswered { tiesJoin += 1; continue }
                    if (a.joinAnswered < b.joinAnswered) == (a.admission < b.admission) { concordant += 1 } else { discordant += 1 }
                }
            }
            let pairs = Double(count * (count - 1) / 2)
            let tau = (concordant - discordant) / ((pairs - tiesJoin) * pairs).squareRoot()
            #expect(Fairness.definiteInversions(admitted) == inversions)
            #expect(abs(Fairness.kendallTau(admitted) - tau) < 1e-9)
        }
    }

    @Test("overlapping joins are never definite inversions; a pass's jti gives the admission number")
    func overlapAndPass() {
        let overlapping = [
            Fairness.Sample(joinSent: 0, joinAnswered: 100, admission: 2),
            Fairness.Sample(joinSent: 50, joinAnswered: 60, admission: 1),
        ]
        #expect(Fairness.definiteInversions(overlapping) == 0)
        let payload = Data(#"{"jti":"sale-1.42","aud":"sale-1"}"#.utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        #expect(FlashSaleVisitor.admissionNumber(of: "eyJhbGciOiJFUzI1NiJ9.\(payload).c2ln") == 42)
        #expect(FlashSaleVisitor.admissionNumber(of: "not-a-jwt") == nil)
    }

    @Test("arrival schedules: steady spacing, a spike within a second, a ramp that ends at the rate")
    func arrivals() throws {
        var plan = try #require(FlashSalePlan.preset("sustained", event: "e"))
        plan.arrivalRate = 100
        #expect(abs(plan.arrivalOffset(of: 50) - 0.5) < 1e-9)
        plan.arrival = .spike
        #expect(plan.arrivalOffset(of: plan.users - 1) < 1)
        plan.arrival = .ramp
        plan.users = 1_000
        let total = plan.arrivalOffset(of: plan.users)
        #expect(abs(total - 20) < 1e-9, "1000 visitors ramping to 100/s take 2·1000/100 s")
        let lastGap = plan.arrivalOffset(of: plan.users) - plan.arrivalOffset(of: plan.users - 1)
        #expect(abs(lastGap - 0.01) < 0.001, "the rate at the end is 100/s")
        #expect(FlashSalePlan.scenarios.allSatisfy { FlashSalePlan.preset($0, event: "e") != nil })
    }
}
