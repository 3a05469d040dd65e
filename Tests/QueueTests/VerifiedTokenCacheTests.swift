@testable import Queue
import Testing

@Suite("Verified tokens are remembered, forged ones never")
struct VerifiedTokenCacheTests {
    let tickets = VisitorTickets(secret: Array(repeating: 7, count: 32))

    @Test("a cached ticket and place token answer as the HMAC does; forged or borrowed texts are refused and not kept")
    func answersAsTheTicketsDo() throws {
        let cache = VerifiedTokenCache(tickets: tickets)
        let (ticket, visitor) = tickets.issue()
        let spot = QueueSpot(line: .queue, score: 4_242)
        let place = tickets.placeToken(event: "ev-1", visitor: visitor, spot: spot)

        for _ in 0..<3 {
            let verified = try #require(cache.verified(ticket: ticket))
            #expect(verified.visitor == visitor && verified.ticket == ticket)
            #expect(cache.spot(fromPlaceToken: place, event: "ev-1", of: verified) == spot)
        }
        #expect(cache.count == 1, "one ticket kept, its place token beside it")
        #expect(cache.verified(ticket: ticket)?.isHolding(place: place, event: "ev-1") == true)

        let forgedTicket = String(ticket.dropLast()) + (ticket.last == "A" ? "B" : "A")
        #expect(cache.verified(ticket: forgedTicket) == nil)
        let verified = try #require(cache.verified(ticket: ticket))
        let forgedPlace = String(place.dropLast()) + (place.last == "A" ? "B" : "A")
        #expect(cache.spot(fromPlaceToken: forgedPlace, event: "ev-1", of: verified) == nil)
        // The genuine token, cached for its visitor and event, is still refused for anyone or anywhere else.
        let (otherTicket, _) = tickets.issue()
        let other = try #require(cache.verified(ticket: otherTicket))
        #expect(cache.spot(fromPlaceToken: place, event: "ev-1", of: other) == nil)
        #expect(cache.spot(fromPlaceToken: place, event: "ev-2", of: verified) == nil)
        #expect(cache.count == 2, "the second genuine ticket kept, nothing refused")
        #expect(cache.verified(ticket: ticket)?.isHolding(place: place, event: "ev-1") == true, "a refused token replaces nothing")
        #expect(cache.verified(ticket: otherTicket)?.isHolding(place: place, event: "ev-1") == false)
    }

    @Test("a visitor's newer place token replaces the one kept, and both still answer")
    func newerPlaceReplacesOlder() throws {
        let cache = VerifiedTokenCache(tickets: tickets)
        let (ticket, visitor) = tickets.issue()
        let first = tickets.placeToken(event: "ev-1", visitor: visitor, spot: QueueSpot(line: .queue, score: 1))
        let second = tickets.placeToken(event: "ev-2", visitor: visitor, spot: QueueSpot(line: .prequeue, score: 2))
        #expect(cache.spot(fromPlaceToken: first, event: "ev-1", of: try #require(cache.verified(ticket: ticket)))?.score == 1)
        #expect(cache.spot(fromPlaceToken: second, event: "ev-2", of: try #require(cache.verified(ticket: ticket)))?.score == 2)
        let verified = try #require(cache.verified(ticket: ticket))
        #expect(verified.isHolding(place: second, event: "ev-2"))
        #expect(cache.spot(fromPlaceToken: first, event: "ev-1", of: verified)?.line == .queue)
        #expect(cache.spot(fromPlaceToken: first, event: "ev-2", of: verified) == nil)
    }

    @Test("texts that end like a cached token (its MAC) but differ before it are checked, never taken for it")
    func sameTailIsNotTheSameToken() throws {
        let cache = VerifiedTokenCache(tickets: tickets)
        let (ticket, visitor) = tickets.issue()
        let (otherTicket, _) = tickets.issue()
        let place = tickets.placeToken(event: "ev-1", visitor: visitor, spot: QueueSpot(line: .queue, score: 7))
        let verified = try #require(cache.verified(ticket: ticket))
        #expect(cache.spot(fromPlaceToken: place, event: "ev-1", of: verified) != nil)

        let tail = VerifiedTokenCache.hashedTail
        let grafted = String(otherTicket.utf8.dropLast(tail))! + String(ticket.utf8.suffix(tail))!
        #expect(grafted != ticket && grafted.hasSuffix(String(ticket.utf8.suffix(tail))!))
        #expect(VerifiedTokenCache.Tail(grafted) == VerifiedTokenCache.Tail(ticket), "the two share a key")
        #expect(cache.verified(ticket: grafted) == nil, "another ticket's payload under this ticket's MAC tail")
        let prefixed = "x" + place
        let held = try #require(cache.verified(ticket: ticket))
        #expect(cache.spot(fromPlaceToken: prefixed, event: "ev-1", of: held) == nil)
        #expect(cache.verified(ticket: ticket)?.visitor == visitor)
        #expect(cache.count == 1)
    }

    @Test("short texts are keyed without reading past them")
    func shortTexts() {
        let cache = VerifiedTokenCache(tickets: tickets)
        #expect(VerifiedTokenCache.Tail("") == VerifiedTokenCache.Tail(""))
        #expect(VerifiedTokenCache.Tail("ab") != VerifiedTokenCache.Tail("ba"))
        #expect(cache.verified(ticket: "") == nil)
        #expect(cache.verified(ticket: "v1.x") == nil)
        #expect(cache.count == 0)
    }

    @Test("the cache stays within its capacity and still answers once a full shard was emptied")
    func boundedByCapacity() {
        let cache = VerifiedTokenCache(tickets: tickets, capacity: 64)
        var issued: [(ticket: String, visitor: String)] = []
        for _ in 0..<2_000 {
            let pair = tickets.issue()
            issued.append(pair)
            #expect(cache.visitor(from: pair.ticket) == pair.visitor)
            #expect(cache.count <= 64)
        }
        for pair in issued.prefix(50) {
            #expect(cache.visitor(from: pair.ticket) == pair.visitor)
        }
    }
}

extension VerifiedTokenCache.VerifiedTicket {
    /// Whether `place`, checked for `event`, is the place token kept beside this ticket.
    func isHolding(place token: String, event: String) -> Bool {
        place?.token == token && place?.event == event
    }
}
