/// The first segment of every Redis key a deployment writes: `bk` unless configured.
///
/// Deployments that share one Redis database — a staging and a demo gateway, or every test of a
/// run — each name their own space, and then share no key: not the per-event keys
/// (`SPACE:{evt:ID}:...`) and not the sets that list every room or event (`SPACE:rooms`).
/// Hash tags are untouched, so each script's keys still live in one Redis Cluster slot.
public struct RedisKeySpace: Sendable, Hashable, CustomStringConvertible {
    /// The space's name, as it starts every key.
    public let name: String

    /// The space of a deployment that names none.
    public static let standard = RedisKeySpace(uncheckedName: "bk")

    /// A space named `name`: 1–48 of `A-Z a-z 0-9 - _ .`, so that no key pattern or hash tag
    /// can be spelled with it.
    public init(_ name: String) throws(RedisConfigurationError) {
        guard Self.isValid(name) else { throw .invalidKeySpace(name) }
        self.name = name
    }

    private init(uncheckedName: String) {
        self.name = uncheckedName
    }

    /// A fresh space no other process names: `prefix-` and 12 random hexadecimal digits.
    public static func unique(_ prefix: String = "t") -> RedisKeySpace {
        let suffix = String(UInt64.random(in: 0..<(1 << 48)), radix: 16)
        return RedisKeySpace(uncheckedName: prefix + "-" + String(repeating: "0", count: 12 - suffix.count) + suffix)
    }

    /// A key of the space that belongs to no hash tag: `SPACE:name`.
    public func key(_ name: String) -> String {
        self.name + ":" + name
    }

    /// A key under hash tag `tag`: `SPACE:{tag}`; the other keys of the tag append `:name`.
    public func tagged(_ tag: String) -> String {
        name + ":{" + tag + "}"
    }

    /// A `SCAN`/`KEYS` pattern that matches every key of the space.
    public var pattern: String { name + ":*" }

    public var description: String { name }

    static func isValid(_ name: String) -> Bool {
        (1...48).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }
}
