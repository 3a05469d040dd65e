import Crypto
import Foundation
import Tokens

extension VisitorTickets {
    /// A signed record of where `visitor` is filed in `event`'s room, handed out at join so that
    /// later polls can be answered from a room snapshot: `q1.<line><score>.<MAC>`, the MAC being
    /// the first 16 bytes of HMAC-SHA256(secret, "q1:<event>:<visitor>:<line><score>") in base64url.
    public func placeToken(event: String, visitor: String, spot: QueueSpot) -> String {
        let place = spot.line.rawValue + String(spot.score)
        let mac = placeMAC(event: event, visitor: visitor, place: place[...]).withUnsafeBytes { Base64URL.encode(UnsafeRawBufferPointer(rebasing: $0.prefix(16))) }
        return "q1." + place + "." + mac
    }

    /// The spot a genuine place token records for this visitor in this event; nil for anything
    /// forged, malformed, or issued to someone else or for another room.
    public func spot(fromPlaceToken token: String, event: String, visitor: String) -> QueueSpot? {
        let bytes = token.utf8
        guard bytes.count <= 64, bytes.starts(with: "q1.".utf8) else { return nil }
        let placeStart = bytes.index(bytes.startIndex, offsetBy: 3)
        guard let dot = bytes[placeStart...].firstIndex(of: UInt8(ascii: ".")), dot > placeStart else { return nil }
        let place = token[placeStart..<dot]
        let macText = token[bytes.index(after: dot)...]
        guard let line = QueueSpot.Line(rawValue: String(place.prefix(1))), let score = Int64(place.dropFirst()),
              !macText.utf8.contains(UInt8(ascii: ".")), let mac = Base64URL.decode(macText), mac.count == 16
        else { return nil }
        return placeMAC(event: event, visitor: visitor, place: place).starts(withCode: mac) ? QueueSpot(line: line, score: score) : nil
    }

    /// The MAC of a place; its first 16 bytes go in the token. The message is put together first:
    /// one hasher update costs more than copying a few dozen bytes.
    private func placeMAC(event: String, visitor: String, place: Substring) -> SHA256.Digest {
        var message = "q1:"
        message.reserveCapacity(5 + event.utf8.count + visitor.utf8.count + place.utf8.count)
        message += event
        message += ":"
        message += visitor
        message += ":"
        message += place
        return keyed.code { $0.update(utf8: message) }
    }
}
