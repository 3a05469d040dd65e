@testable import Queue
import Testing

@Suite("Verified tokens are remembered, forged ones never")
struct VerifiedTokenCacheTests {
    let tickets = VisitorTickets(secret: Array(repeating: 7, count: 32))

    @Test("a cached ticket and place token answer as the HMAC does; forged or borrowed texts are refused and not kept")
    func answersAsTheTicketsDo() {
        let cache = VerifiedTokenCache(tickets: tickets)
        let (ticket, visitor) = tickets.issue()
        let spot = QueueSpot(line: .queue, score: 4_242)
        let place = tickets.placeToken(event: "ev-1", visitor: visitor, spot: spot)

        for _ in 0..<3 {
            #expect(cache.visitor(from: ticket) == visitor)
            #expect(cache.spot(fromPlaceToken: place, event: "ev-1", visitor: visitor) == spot)
        }
        #expect(cache.count == 2, "one ticket and one place token kept")

        let forgedTicket = String(ticket.dropLast()) + (ticket.last == "A" ? "B" : "A")
        #expect(cache.visitor(from: forgedTicket) == nil)
        let forgedPlace = String(place.dropLast()) + (place.last == "A" ? "B" : "A")
        #expect(cache.spot(fromPlaceToken: forgedPlace, event: "ev-1", visitor: visitor) == nil)
        // The genuine token, cached for its visitor and event, is still refused for anyone or anywhere else.
        let (_, other) = tickets.issue()
        #expect(cache.spot(fromPlaceToken: place, event: "ev-1", visitor: other) == nil)
        #expect(cache.spot(fromPlaceToken: place, event: "ev-2", visitor: visitor) == nil)
        #expect(cache.count == 2, "nothing refused was kept")
    }

    @Test("texts that end like a cached token (its MAC) but differ before it are checked, never taken for it")
    func sameTailIsNotTheSameToken() {
        let cache = VerifiedTokenCache(tickets: tickets)
        let (ticket, visitor) = tickets.issue()
        let (otherTicket, _) = tickets.issue()
        let place = tickets.placeToken(event: "ev-1", visitor: visitor, spot: QueueSpot(line: .queue, score: 7))
        #expect(cache.visitor(from: ticket) == visitor)
        #expect(cache.spot(fromPlaceToken: place, event: "ev-1", visitor: visitor) != nil)

        let tail = VerifiedTokenCache.hashedTail
        let grafted = String(otherTicket.utf8.dropLast(tail))! + String(ticket.utf8.suffix(tail))!
        #expect(grafted != ticket && grafted.hasSuffix(String(ticket.utf8.suffix(tail))!))
        #expect(cache.visitor(from: grafted) == nil, "another ticket's payload under this ticket's MAC tail")
        let prefixed = "x" + place
        #expect(cache.spot(fromPlaceToken: prefixed, event: "ev-1", visitor: visitor) == nil)
        #expect(cache.visitor(from: ticket) == visitor)
        #expect(cache.count == 2)
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
