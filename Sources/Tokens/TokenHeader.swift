import Foundation
import Synchronization

/// The fields of a JWT header that are checked before any signature work.
public struct TokenHeader: Decodable, Sendable, Equatable {
    public var alg: String?
    public var typ: String?
    public var kid: String?

    public init(alg: String?, typ: String?, kid: String?) {
        self.alg = alg
        self.typ = typ
        self.kid = kid
    }

    /// Headers decoded lately, by their base64url text: every token signed with one key has the
    /// same header, so a verification decodes it once instead of once per token. Bounded: the
    /// table is emptied when it holds ``recentCapacity`` headers.
    private static let recent = Mutex<[String: TokenHeader]>([:])
    static let recentCapacity = 64

    /// Decodes the header of a token of three dot-separated parts without verifying anything.
    public static func decode(_ token: String) throws(TokenError) -> TokenHeader {
        let bytes = token.utf8
        let dot = UInt8(ascii: ".")
        guard let first = bytes.firstIndex(of: dot),
              let second = bytes[bytes.index(after: first)...].firstIndex(of: dot),
              !bytes[bytes.index(after: second)...].contains(dot)
        else { throw .malformed }
        let segment = String(Substring(bytes[..<first]))
        if let header = recent.withLock({ $0[segment] }) { return header }
        guard let data = Data(base64URLEncoded: Substring(segment)),
              let header = try? JSONDecoder().decode(TokenHeader.self, from: data)
        else { throw .malformed }
        recent.withLock { recent in
            if recent.count >= recentCapacity { recent.removeAll(keepingCapacity: true) }
            recent[segment] = header
        }
        return header
    }
}
