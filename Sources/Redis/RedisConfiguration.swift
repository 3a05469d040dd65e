import NIOCore

/// Where and how to reach Redis.
public struct RedisConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// ACL user name for `AUTH user password`; nil means `AUTH password`.
    public var username: String?
    public var password: String?
    /// Database number, sent as `SELECT` on every new connection.
    public var database: Int
    /// Connections to open, spread over the event loops.
    public var poolSize: Int
    /// How long a command may wait for its reply.
    public var commandTimeout: TimeAmount
    /// How long a TCP connect and handshake may take.
    public var connectTimeout: TimeAmount
    /// The first wait before reconnecting after a failed connect; it doubles up to `maximumBackoff`.
    public var minimumBackoff: TimeAmount
    public var maximumBackoff: TimeAmount
    /// The first segment of every key the deployment writes (``RedisKeySpace``).
    public var keySpace: RedisKeySpace

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        poolSize: Int = 2,
        commandTimeout: TimeAmount = .seconds(2),
        connectTimeout: TimeAmount = .seconds(2),
        minimumBackoff: TimeAmount = .milliseconds(50),
        maximumBackoff: TimeAmount = .seconds(1),
        keySpace: RedisKeySpace = .standard
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.poolSize = max(1, poolSize)
        self.commandTimeout = commandTimeout
        self.connectTimeout = connectTimeout
        self.minimumBackoff = minimumBackoff
        self.maximumBackoff = maximumBackoff
        self.keySpace = keySpace
    }

    /// Reads `redis://[[user]:password@]host[:port][/database]`.
    ///
    /// Percent-escapes in the user and password are decoded. `rediss://` (TLS) is refused.
    public init(url: String) throws(RedisConfigurationError) {
        let prefix = "redis://"
        guard url.hasPrefix(prefix) else { throw .unsupportedURL(url) }
        var rest = Substring(url.dropFirst(prefix.count))
        self.init()
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                self.username = user.isEmpty ? nil : try Self.percentDecoded(user)
                self.password = try Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                self.password = try Self.percentDecoded(credentials)
            }
        }
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let database = Int(path), database >= 0 else { throw .invalidDatabase(String(path)) }
                self.database = database
            }
        }
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .unsupportedURL(url) }
            self.host = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
            if rest.hasPrefix(":") { self.port = try Self.port(rest.dropFirst()) }
        } else if let colon = rest.firstIndex(of: ":") {
            self.host = String(rest[..<colon])
            self.port = try Self.port(rest[rest.index(after: colon)...])
        } else {
            self.host = String(rest)
        }
        guard !host.isEmpty else { throw .unsupportedURL(url) }
    }

    private static func port(_ text: Substring) throws(RedisConfigurationError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else { throw .invalidPort(String(text)) }
        return port
    }

    private static func percentDecoded(_ text: Substring) throws(RedisConfigurationError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next(), let low = iterator.next(),
                  let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { throw .invalidEscape }
            bytes.append(value)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Why a Redis URL was refused.
public enum RedisConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    case unsupportedURL(String)
    case invalidPort(String)
    case invalidDatabase(String)
    case invalidEscape
    case invalidKeySpace(String)

    public var description: String {
        switch self {
        case .unsupportedURL: "expected a URL of the form redis://[[user]:password@]host[:port][/database]"
        case .invalidPort(let port): "invalid Redis port '\(port)'"
        case .invalidDatabase(let database): "invalid Redis database '\(database)'"
        case .invalidEscape: "invalid percent-escape in the Redis URL's credentials"
        case .invalidKeySpace(let name): "invalid Redis key space '\(name)': 1–48 of A-Z a-z 0-9 - _ ."
        }
    }
}
