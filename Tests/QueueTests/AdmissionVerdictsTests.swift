import Queue
import Testing

@Suite("Recent admission verdicts: what a gateway may skip asking Redis")
struct AdmissionVerdictsTests {
    @Test("a confirmed admission stands for the same requester only, until forgotten or expired")
    func standsForItsRequesterOnly() async throws {
        let verdicts = AdmissionVerdicts()
        #expect(!verdicts.stands(event: "e", visitor: "t:1", admission: "7", requester: ""))
        verdicts.confirm(event: "e", visitor: "t:1", admission: "7", requester: "", expiresIn: .seconds(60))
        verdicts.confirm(event: "e", visitor: "t:2", admission: "8", requester: "u:9", expiresIn: .seconds(60))
        #expect(verdicts.stands(event: "e", visitor: "t:1", admission: "7", requester: ""))
        #expect(!verdicts.stands(event: "e", visitor: "t:1", admission: "7", requester: "u:5"), "another account is asked about in Redis")
        #expect(!verdicts.stands(event: "e", visitor: "t:1", admission: "6", requester: ""), "another admission of the visitor")
        #expect(!verdicts.stands(event: "other", visitor: "t:1", admission: "7", requester: ""))
        #expect(verdicts.stands(event: "e", visitor: "t:2", admission: "8", requester: "u:9"))

        verdicts.forget(event: "e", visitor: "t:1")
        #expect(!verdicts.stands(event: "e", visitor: "t:1", admission: "7", requester: ""), "the visitor left")
        #expect(verdicts.stands(event: "e", visitor: "t:2", admission: "8", requester: "u:9"), "others are kept")
        verdicts.forget(event: "e")
        #expect(!verdicts.stands(event: "e", visitor: "t:2", admission: "8", requester: "u:9"), "the room was deleted")
    }

    @Test("an answer is trusted no longer than the pass lives, and never more than a second")
    func expires() async throws {
        let verdicts = AdmissionVerdicts()
        verdicts.confirm(event: "e", visitor: "t:1", admission: "1", requester: "", expiresIn: .milliseconds(300))
        verdicts.confirm(event: "e", visitor: "t:2", admission: "2", requester: "", expiresIn: .seconds(3_600))
        verdicts.confirm(event: "e", visitor: "t:3", admission: "3", requester: "", expiresIn: .seconds(-1))
        #expect(verdicts.stands(event: "e", visitor: "t:1", admission: "1", requester: ""))
        #expect(!verdicts.stands(event: "e", visitor: "t:3", admission: "3", requester: ""), "an expired pass is never remembered")
        try await Task.sleep(for: .milliseconds(400))
        #expect(!verdicts.stands(event: "e", visitor: "t:1", admission: "1", requester: ""), "not past the pass's expiry")
        #expect(verdicts.stands(event: "e", visitor: "t:2", admission: "2", requester: ""))
        try await Task.sleep(for: AdmissionVerdicts.lifetime)
        #expect(!verdicts.stands(event: "e", visitor: "t:2", admission: "2", requester: ""), "not past the lifetime")
    }

    @Test("near its end an answer still stands, and exactly one caller is told to check it anew; a new confirmation renews it")
    func checkDueOnce() async throws {
        let verdicts = AdmissionVerdicts()
        #expect(verdicts.standing(event: "e", visitor: "t:1", admission: "1", requester: "") == .unknown)
        verdicts.confirm(event: "e", visitor: "t:1", admission: "1", requester: "", expiresIn: .seconds(60))
        #expect(verdicts.standing(event: "e", visitor: "t:1", admission: "1", requester: "") == .stands, "a fresh answer needs no check")
        // A pass that ends within refreshAhead: its answer is near its end from the start.
        verdicts.confirm(event: "e", visitor: "t:2", admission: "2", requester: "", expiresIn: AdmissionVerdicts.refreshAhead - .milliseconds(50))
        #expect(verdicts.standing(event: "e", visitor: "t:2", admission: "2", requester: "") == .standsCheckDue)
        #expect(verdicts.standing(event: "e", visitor: "t:2", admission: "2", requester: "") == .stands, "one caller checks; the others pass")
        #expect(verdicts.standing(event: "e", visitor: "t:2", admission: "2", requester: "u:3") == .unknown, "another requester's answer is its own")
        verdicts.confirm(event: "e", visitor: "t:2", admission: "2", requester: "", expiresIn: .seconds(60))
        #expect(verdicts.standing(event: "e", visitor: "t:2", admission: "2", requester: "") == .stands, "renewed: no check due")

        try await Task.sleep(for: AdmissionVerdicts.lifetime - AdmissionVerdicts.refreshAhead + .milliseconds(50))
        #expect(verdicts.standing(event: "e", visitor: "t:2", admission: "2", requester: "") == .standsCheckDue, "due again near the renewed end")
    }
}
