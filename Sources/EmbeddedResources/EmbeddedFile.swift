/// A file of the repository embedded into the binary at build time.
public struct EmbeddedFile: Sendable, Hashable {
    /// The file's name, e.g. `queue_join.lua` or `0001_schema_migrations.sql`.
    public let name: String
    /// The file's contents, byte for byte as UTF-8 text.
    public let contents: String

    public init(name: String, contents: String) {
        self.name = name
        self.contents = contents
    }
}

/// The Lua scripts of `Lua/`, one constant per file (generated at build time).
public enum EmbeddedLua {}

/// The SQL migrations of `Migrations/` (generated at build time).
public enum EmbeddedMigrations {}

/// The browser assets of `Web/` (customer flow and operator console), generated at build time.
public enum EmbeddedWeb {}
