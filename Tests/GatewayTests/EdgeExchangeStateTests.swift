import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import Gateway

@Suite("What an exchange keeps for its policies")
struct EdgeExchangeStateTests {
    @Test("response fields keep their order past the two held inline")
    func responseFieldsInOrder() {
        var fields = EdgeResponseFields()
        var headers: HTTPHeaders = ["Content-Type": "text/plain"]
        fields.add(to: &headers)
        #expect(headers.map(\.name) == ["Content-Type"], "no fields adds nothing")
        for index in 1...4 { fields.append(name: "X-Field-\(index)", value: "v\(index)") }
        #expect(fields.count == 4)
        fields.add(to: &headers)
        #expect(headers.map(\.name) == ["Content-Type", "X-Field-1", "X-Field-2", "X-Field-3", "X-Field-4"])
        #expect(headers.map(\.value) == ["text/plain", "v1", "v2", "v3", "v4"])
    }

    @Test("awaited verdicts come out in chain order; one that is pending again goes first")
    func pendingVerdictsInOrder() throws {
        let loop = EmbeddedEventLoop()
        let verdicts = (0..<4).map { _ in loop.makePromise(of: EdgeVerdict.self) }
        var pending = PendingVerdicts()
        #expect(pending.isEmpty && pending.count == 0)
        pending.append(verdicts[0].futureResult)
        pending.append(verdicts[1].futureResult)
        pending.append(verdicts[2].futureResult)
        #expect(pending.count == 3)
        #expect(pending.first === verdicts[0].futureResult)
        pending.removeFirst()
        pending.prepend(verdicts[3].futureResult)
        var order: [EventLoopFuture<EdgeVerdict>] = []
        while let first = pending.first {
            order.append(first)
            pending.removeFirst()
        }
        #expect(order.count == 3)
        #expect(order[0] === verdicts[3].futureResult)
        #expect(order[1] === verdicts[1].futureResult)
        #expect(order[2] === verdicts[2].futureResult)
        #expect(pending.isEmpty && pending.count == 0)
        for verdict in verdicts { verdict.succeed(.proceed) }
        try loop.syncShutdownGracefully()
    }

    @Test("an identity's principal follows its user id")
    func principalFollowsUserID() {
        var identity = Identity(userID: "user-1", roles: ["customer"])
        #expect(identity.principal == "u:user-1")
        identity.userID = "a-much-longer-user-identifier-than-fits-inline"
        #expect(identity.principal == "u:a-much-longer-user-identifier-than-fits-inline")
        #expect(identity == Identity(userID: "a-much-longer-user-identifier-than-fits-inline", roles: ["customer"]))
    }
}
