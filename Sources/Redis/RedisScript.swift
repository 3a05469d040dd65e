import Crypto
import EmbeddedResources
import NIOCore

/// A Lua script, called by its SHA-1 with `EVALSHA`.
public struct RedisScript: Sendable, Hashable {
    /// A name for logs and metrics, e.g. the script's file name.
    public let name: String
    /// The Lua source.
    public let source: String
    /// The lower-case hex SHA-1 of `source`, as Redis names it.
    public let sha1: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8))
            .map { byte in String(byte, radix: 16).leftPadded(to: 2) }
            .joined()
    }
}

extension RedisScript {
    /// A script embedded from `Lua/` at build time.
    public init(_ file: EmbeddedFile) {
        self.init(name: file.name, source: file.contents)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

extension RedisScript {
    /// `EVALSHA sha1 numkeys key… arg…`, or with `evaluatingSource` `EVAL source numkeys key… arg…`.
    func command(keys: [String], arguments: [any RedisArgument], evaluatingSource: Bool = false) -> RedisCommand {
        let more = keys.count + arguments.count
        let moreBytes = keys.reduce(16 * arguments.count) { $0 + $1.utf8.count }
        var command = evaluatingSource
            ? RedisCommand("EVAL", [source, keys.count], more: more, moreBytes: moreBytes)
            : RedisCommand("EVALSHA", [sha1, keys.count], more: more, moreBytes: moreBytes)
        for key in keys { command.append(key) }
        for argument in arguments { command.append(argument) }
        return command
    }
}

extension RedisClient {
    /// Runs `script` with `EVALSHA`; when the server's script cache lacks it (`NOSCRIPT`, e.g.
    /// after `SCRIPT FLUSH` or a restart), loads it with `SCRIPT LOAD` and retries once. Should
    /// the cache be flushed again in between, the retry sends the source with `EVAL`.
    public func run(
        _ script: RedisScript,
        keys: [String],
        arguments: [any RedisArgument] = [],
        timeout: TimeAmount? = nil
    ) async throws(RedisError) -> RedisValue {
        let command = script.command(keys: keys, arguments: arguments)
        do {
            return try await send(command, timeout: timeout)
        } catch RedisError.server(let error) where error.kind == .noScript {
            // Loaded on the node that serves the keys (in a cluster, each node has its own cache).
            let slot = keys.first.map { RedisClusterSlot.of(Array($0.utf8)) }
            let loaded = try await sendRouted(RedisCommand("SCRIPT", ["LOAD", script.source]), slot: slot, timeout: timeout)
            guard loaded.string == script.sha1 else { throw .unexpectedReply(loaded) }
        }
        do {
            return try await send(command, timeout: timeout)
        } catch RedisError.server(let error) where error.kind == .noScript {
            return try await send(script.command(keys: keys, arguments: arguments, evaluatingSource: true), timeout: timeout)
        }
    }
}
