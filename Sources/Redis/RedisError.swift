import NIOCore

/// Why a Redis command failed.
public enum RedisError: Error, Sendable, Hashable {
    /// The connection closed while the command was in flight: it may or may not have run.
    case connectionClosed
    /// No connection could be made; the client retries after a backoff.
    case connectionUnavailable(reason: String)
    /// No reply arrived within the command's timeout: it may or may not have run.
    case timeout(milliseconds: Int64)
    /// The server answered with an error reply.
    case server(RedisServerError)
    /// The bytes from the server are not RESP2.
    case protocolViolation(String)
    /// The reply had a type the caller did not expect.
    case unexpectedReply(RedisValue)
    /// The client was shut down.
    case clientShutdown
}

extension RedisError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .connectionClosed: "Redis connection closed with the command in flight"
        case .connectionUnavailable(let reason): "Redis is unavailable: \(reason)"
        case .timeout(let milliseconds): "Redis command timed out after \(milliseconds) ms"
        case .server(let error): "Redis error: \(error.message)"
        case .protocolViolation(let detail): "Redis protocol violation: \(detail)"
        case .unexpectedReply(let value): "unexpected Redis reply: \(value)"
        case .clientShutdown: "Redis client is shut down"
        }
    }
}

/// An error reply from the server, classified by its leading word.
public struct RedisServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of server error that callers act on.
    public enum Kind: Sendable, Hashable {
        /// `NOSCRIPT`: the script is not in the server's cache.
        case noScript
        /// `MOVED slot host:port`: the key lives on another cluster node.
        case moved(slot: Int, address: String)
        /// `ASK slot host:port`: the key is migrating; ask the other node once.
        case ask(slot: Int, address: String)
        /// `WRONGTYPE`: the key holds another type.
        case wrongType
        /// `BUSY`: a script is running too long.
        case busy
        /// `LOADING`: the server is loading its dataset.
        case loading
        /// `READONLY`: a write was sent to a replica.
        case readOnly
        /// `NOAUTH` or `WRONGPASS`: authentication is missing or wrong.
        case authentication
        /// `TRYAGAIN` or `CLUSTERDOWN`: retry later.
        case tryAgain
        /// `OOM`: the server is over its memory limit.
        case outOfMemory
        /// Any other error; `code` is its leading word (`ERR`, or a script's own code).
        case other(code: String)
    }

    /// The error's kind.
    public let kind: Kind
    /// The full error message, as the server sent it.
    public let message: String

    public init(message: String) {
        self.message = message
        let words = message.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
        let code = words.first.map(String.init) ?? ""
        switch code {
        case "NOSCRIPT": self.kind = .noScript
        case "MOVED" where words.count >= 3: self.kind = .moved(slot: Int(words[1]) ?? -1, address: String(words[2]))
        case "ASK" where words.count >= 3: self.kind = .ask(slot: Int(words[1]) ?? -1, address: String(words[2]))
        case "WRONGTYPE": self.kind = .wrongType
        case "BUSY": self.kind = .busy
        case "LOADING": self.kind = .loading
        case "READONLY": self.kind = .readOnly
        case "NOAUTH", "WRONGPASS": self.kind = .authentication
        case "TRYAGAIN", "CLUSTERDOWN": self.kind = .tryAgain
        case "OOM": self.kind = .outOfMemory
        default: self.kind = .other(code: code)
        }
    }

    /// The leading word of the message: `ERR`, `NOSCRIPT`, or a code raised by a script.
    public var code: String {
        String(message.prefix { $0 != " " })
    }

    public var description: String { message }
}
