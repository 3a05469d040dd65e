import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Queue
import Testing

@testable import Gateway

/// Solves challenges the way the waiting-room page's worker does, by trying nonces in order.
enum Solver {
    static func solve(_ challenge: String, difficulty: Int) -> String {
        var nonce: UInt64 = 0
        while true {
            let solution = "\(challenge)~\(nonce)"
            if JoinChallenges.leadingZeroBits(SHA256.hash(data: Data(solution.utf8))) >= difficulty { return solution }
            nonce += 1
        }
    }

    /// A nonce that does not reach `difficulty` bits.
    static func miss(_ challenge: String, difficulty: Int) -> String {
        var nonce: UInt64 = 0
        while true {
            let solution = "\(challenge)~\(nonce)"
            if JoinChallenges.leadingZeroBits(SHA256.hash(data: Data(solution.utf8))) < difficulty { return solution }
            nonce += 1
        }
    }
}

@Suite("Rooms may ask new visitors for a proof of work")
struct ProofOfWorkTests {
    static let required = "https://booking-rush.dev/problems/proof-of-work-required"
    static let invalid = "https://booking-rush.dev/problems/proof-of-work-invalid"
    static let proof = HTTPField.Name("Queue-Proof")!

    @Test("challenges are checked for origin, room, expiry and work")
    func challengeChecks() throws {
        let challenges = JoinChallenges(secret: Array(repeating: 7, count: 32))
        let issued = challenges.issue(event: "gig", difficulty: 6)
        #expect(issued.difficulty == 6)
        let solution = Solver.solve(issued.challenge, difficulty: 6)
        let proof = try challenges.verify(solution, event: "gig")
        #expect(proof.difficulty == 6)

        #expect(throws: QueueError.self, "too little work") { try challenges.verify(Solver.miss(issued.challenge, difficulty: 6), event: "gig") }
        #expect(throws: QueueError.self, "another room") { try challenges.verify(solution, event: "other") }
        #expect(throws: QueueError.self, "expired") { try challenges.verify(solution, event: "gig", now: Date().addingTimeInterval(600)) }
        #expect(throws: QueueError.self, "not a solution") { try challenges.verify(issued.challenge, event: "gig") }

        let easier = issued.challenge.replacingOccurrences(of: "~gig~6~", with: "~gig~0~")
        #expect(throws: QueueError.self, "a lowered difficulty breaks the signature") { try challenges.verify(easier + "~0", event: "gig") }
        let otherGateway = JoinChallenges(secret: Array(repeating: 8, count: 32))
        #expect(throws: QueueError.self, "signed with another secret") { try otherGateway.verify(solution, event: "gig") }
    }

    @Test("a join without a solution is refused with directions; a solved challenge joins once; the visitor keeps their place")
    func joins() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 0, proofOfWork: 8)) { fixture in
            let event = fixture.event
            try await fixture.application.test(.live) { client in
                let bare = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post)
                #expect(bare.status == .forbidden)
                #expect(bare.problem?.type == Self.required)
                #expect(bare.problem?.detail?.contains("/api/v1/queue/\(event)/challenge") == true, "says how to get a challenge")

                let issued = try await client.execute(uri: "/api/v1/queue/\(event)/challenge", method: .get)
                #expect(issued.status == .ok)
                #expect(issued.headers[.cacheControl] == "no-store")
                let challenge = try #require(issued.json["challenge"] as? String)
                #expect(issued.json["difficulty"] as? Int == 8)

                let weak = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post, headers: [Self.proof: Solver.miss(challenge, difficulty: 8)])
                #expect(weak.status == .forbidden)
                #expect(weak.problem?.type == Self.invalid)

                let solution = Solver.solve(challenge, difficulty: 8)
                let joined = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post, headers: [Self.proof: solution])
                #expect(joined.status == .created, "\(joined.json)")
                #expect(joined.json["status"] as? String == "waiting")
                let ticket = try #require(joined.json["ticket"] as? String)

                let reused = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post, headers: [Self.proof: solution])
                #expect(reused.status == .forbidden, "one challenge, one place")
                #expect(reused.problem?.type == Self.invalid)

                let again = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post, headers: [QueueHTTP.ticketHeader: ticket])
                #expect(again.status == .ok, "a visitor already in the room needs no new proof")
                #expect(again.json["status"] as? String == "waiting")
                #expect(try await fixture.room.stats(event: event).waiting == 1)
            }
        }
    }

    @Test("a challenge proves only the difficulty it was issued with, and only for its room")
    func difficultyAndRoom() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 0, proofOfWork: 4)) { fixture in
            let event = fixture.event
            try await fixture.application.test(.live) { client in
                let issued = try await client.execute(uri: "/api/v1/queue/\(event)/challenge", method: .get)
                let solution = Solver.solve(try #require(issued.json["challenge"] as? String), difficulty: 4)

                var raised = try await fixture.room.describe(event: event).configuration
                raised.proofOfWork = 12
                try await fixture.room.configure(event: event, raised)
                let stale = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post, headers: [Self.proof: solution])
                #expect(stale.status == .forbidden, "the room now asks for more work than the challenge proves")
                #expect(stale.problem?.type == Self.required)

                let other = try await client.execute(uri: "/api/v1/queue/not-\(event)/join", method: .post, headers: [Self.proof: solution])
                #expect(other.status == .forbidden)
                #expect(other.problem?.type == Self.invalid)

                let missing = try await client.execute(uri: "/api/v1/queue/not-\(event)/challenge", method: .get)
                #expect(missing.status == .notFound)
            }
        }
    }

    @Test("the waiting-room page asks the browser for the work instead of joining, and runs it in a worker")
    func page() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 0, proofOfWork: 8)) { fixture in
            try await fixture.application.test(.live) { client in
                let page = try await client.execute(uri: "/waiting-room/\(fixture.event)", method: .get)
                #expect(page.status == .ok)
                let html = String(buffer: page.body)
                #expect(html.contains("data-status=\"proof\""))
                #expect(page.headers[.contentSecurityPolicy]?.contains("worker-src 'self'") == true)
                #expect(try await fixture.room.stats(event: fixture.event).waiting == 0, "the page joined nobody without a proof")

                let worker = try await client.execute(uri: "/assets/pow-worker.js", method: .get)
                #expect(worker.status == .ok)
                #expect(String(buffer: worker.body).contains("crypto.subtle.digest"))
            }
        }
    }
}
