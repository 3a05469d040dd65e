import Redis
import Testing

@testable import Booking

@Suite("Reserve key cache")
struct ReserveKeyCacheTests {
    @Test("the keys are those BookingKeys names, the booking's own for each id")
    func sameKeys() throws {
        let space = try RedisKeySpace("keycache")
        let cache = ReserveKeyCache(space: space)
        for id in ["evt-1:b1", "evt-1:b2", "evt-1:b1"] {
            let keys = BookingKeys(event: "evt-1", in: space)
            #expect(cache.keys(event: "evt-1", zone: "floor", bookingID: id) == [keys.sale, keys.zone("floor"), keys.userSeats, keys.booking(id), keys.holds, keys.stream])
        }
        let balcony = BookingKeys(event: "evt-2", in: space)
        #expect(cache.keys(event: "evt-2", zone: "balcony", bookingID: "x")[1] == balcony.zone("balcony"))
        #expect(cache.keys(event: "evt-2", zone: "balcony", bookingID: "x")[0] == balcony.sale)
        #expect(cache.count == 2)
    }

    @Test("made-up events and zones never hold more than the capacity")
    func bounded() throws {
        let cache = ReserveKeyCache(space: try RedisKeySpace("keycache"))
        for index in 0..<(ReserveKeyCache.capacity * 3) {
            _ = cache.keys(event: "made-up-\(index)", zone: "z", bookingID: "b")
            #expect(cache.count <= ReserveKeyCache.capacity)
        }
        #expect(cache.keys(event: "made-up-0", zone: "z", bookingID: "b")[3].hasSuffix(":booking:b"))
    }
}
