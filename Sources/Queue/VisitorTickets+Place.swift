import Crypto
import Foundation

extension VisitorTickets {
    /// A signed record of where `visitor` is filed in `event`'s room, handed out at join so that
    /// later polls can be answered from a room snapshot: `q1.<line><score>.<MAC>`, the MAC being
    /// the first 16 bytes of HMAC-SHA256(secret, "q1:<event>:<visitor>:<line><score>") in base64url.
    public func placeToken(event: String, visitor: String, spot: QueueSpot) -> String {
        let place = "\(spot.line.rawValue)\(spot.score)"
        return "q1.\(place).\(placeSignature(event: event, visitor: visitor, place: place))"
    }

    /// The spot a genuine place token records for this visitor in this event; nil for anything
    /// forged, malformed, or issued to someone else or for another room.
    public func spot(fromPlaceToken token: String, event: String, visitor: String) -> QueueSpot? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 64, parts.count == 3, parts[0] == "q1", let first = parts[1].first,
              let line = QueueSpot.Line(rawValue: String(first)), let score = Int64(parts[1].dropFirst()),
              let mac = Data(base64URLEncoded: parts[2]), mac.count == 16
        else { return nil }
        let expected = placeMAC(event: event, visitor: visitor, place: String(parts[1]))
        var difference: UInt8 = 0
        for (given, wanted) in zip(mac, expected) { difference |= given ^ wanted }
        return difference == 0 ? QueueSpot(line: line, score: score) : nil
    }

    private func placeMAC(event: String, visitor: String, place: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data("q1:\(event):\(visitor):\(place)".utf8), using: key).prefix(16))
    }

    private func placeSignature(event: String, visitor: String, place: String) -> String {
        Data(placeMAC(event: event, visitor: visitor, place: place)).base64URLEncodedString()
    }
}
