import Crypto
import Foundation

/// Proof-of-work challenges for joining a room, signed so that gateways keep no state for them.
///
/// A challenge is `v1~<event>~<difficulty>~<expires ms>~<id>~<mac>`; its solution is the
/// challenge followed by `~<nonce>`, where SHA-256 of the solution starts with `difficulty` zero
/// bits. Finding the nonce costs the visitor about 2^difficulty hashes; checking it costs one.
/// Each challenge's `id` admits one join (the join script remembers it).
public struct JoinChallenges: Sendable {
    private let key: SymmetricKey

    /// - Parameter secret: at least 32 bytes, shared by every gateway (the visitor-ticket secret).
    public init(secret: [UInt8]) {
        precondition(secret.count >= 32, "the challenge secret must be at least 32 bytes")
        self.key = SymmetricKey(data: Array("join-challenge:".utf8) + secret)
    }

    /// A challenge for a join to `event`, valid for `lifetime`.
    public func issue(event: String, difficulty: Int, lifetime: Duration = .seconds(120), now: Date = Date()) -> JoinChallenge {
        let expires = Int64((now.timeIntervalSince1970 + Double(lifetime.components.seconds)) * 1000)
        let id = Data((0..<12).map { _ in UInt8.random(in: 0 ... .max) }).base64URLEncodedString()
        let payload = "v1~\(event)~\(difficulty)~\(expires)~\(id)"
        return JoinChallenge(challenge: "\(payload)~\(mac(payload))", difficulty: difficulty, expiresAt: expires)
    }

    /// Checks a solution for `event`: genuine, unexpired, and hashing to enough zero bits.
    ///
    /// - Returns: the challenge's id and difficulty, for the join script to spend.
    /// - Throws: `proofInvalid` with the reason.
    public func verify(_ solution: String, event: String, now: Date = Date()) throws(QueueError) -> JoinProof {
        let parts = solution.split(separator: "~", omittingEmptySubsequences: false)
        guard solution.utf8.count <= 256, parts.count == 7, parts[0] == "v1", let difficulty = Int(parts[2]),
              let expires = Int64(parts[3]), UInt64(parts[6]) != nil
        else { throw .proofInvalid("a solution is <challenge>~<nonce>") }
        let payload = parts[0...4].joined(separator: "~")
        guard let mac = Data(base64URLEncoded: parts[5]),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(payload.utf8), using: key)
        else { throw .proofInvalid("the challenge was not issued by this gateway") }
        guard parts[1] == event else { throw .proofInvalid("the challenge is for another room") }
        guard Double(expires) / 1000 > now.timeIntervalSince1970 else { throw .proofInvalid("the challenge has expired") }
        guard Self.leadingZeroBits(SHA256.hash(data: Data(solution.utf8))) >= difficulty else {
            throw .proofInvalid("the nonce does not solve the challenge")
        }
        return JoinProof(id: String(parts[4]), difficulty: difficulty)
    }

    /// Leading zero bits of a digest.
    public static func leadingZeroBits(_ digest: some Sequence<UInt8>) -> Int {
        var bits = 0
        for byte in digest {
            if byte == 0 {
                bits += 8
                continue
            }
            return bits + byte.leadingZeroBitCount
        }
        return bits
    }

    private func mac(_ payload: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)).base64URLEncodedString()
    }
}

/// A challenge as the challenge route hands it out.
public struct JoinChallenge: Sendable, Codable, Hashable {
    public var challenge: String
    public var difficulty: Int
    /// Unix time in milliseconds after which solutions are refused.
    public var expiresAt: Int64

    enum CodingKeys: String, CodingKey { case challenge, difficulty, expiresAt = "expires_at" }
}

/// A verified solution: the challenge it spends and the work it proves.
public struct JoinProof: Sendable, Hashable {
    public var id: String
    public var difficulty: Int
}
