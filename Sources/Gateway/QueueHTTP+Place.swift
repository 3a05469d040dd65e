import Foundation
import Hummingbird
import Queue
import ServiceKit

extension QueueHTTP {
    /// The cookie that carries a visitor's signed spot in `event`'s room.
    static func placeCookieName(event: String) -> String { "br_place_\(event)" }

    /// The cookie that carries a place token for browsers, for as long as a ticket lasts.
    func placeCookie(event: String, token: String) -> QueueCookie {
        QueueCookie(name: Self.placeCookieName(event: event), value: token, maxAge: 86_400, secure: secureCookies)
    }

    /// The signed place token of a visitor filed at `spot`.
    func placeToken(event: String, visitor: String, spot: QueueSpot) -> String {
        tickets.placeToken(event: event, visitor: visitor, spot: spot)
    }

    /// The visitor's spot from a genuine place token (header `Queue-Place`, else the cookie).
    func spot(of request: Request, event: String, visitor: String) -> QueueSpot? {
        for token in [request.headers.value(of: Self.placeHeader), request.cookies[Self.placeCookieName(event: event)]?.value].compactMap({ $0 }) {
            if let spot = tickets.spot(fromPlaceToken: token, event: event, visitor: visitor) { return spot }
        }
        return nil
    }

    /// The visitor's place: from this gateway's room snapshot while their spot is behind the
    /// head of its line, otherwise (no spot, or at the head: admitted or lost) from Redis.
    func currentPlace(event: String, visitor: String, spot: QueueSpot?) async throws(QueueError) -> VisitorPlace {
        if let spot, let place = try await snapshots.place(event: event, visitor: visitor, spot: spot) {
            return place
        }
        return try await room.status(event: event, visitor: visitor)
    }
}
