import Foundation
import Logging

/// Writes one JSON object per log line to standard output: `ts`, `level`, `logger`, `message`,
/// `source`, the error when the event carries one, then the metadata (the request id among it).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let write: @Sendable (Data) -> Void

    /// - Parameter write: where each line goes (standard output by default).
    public init(label: String, write: @escaping @Sendable (Data) -> Void = { FileHandle.standardOutput.write($0) }) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [
            "ts": Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)),
            "level": event.level.rawValue,
            "logger": label,
            "message": "\(event.message)",
            "source": event.source,
        ]
        if let error = event.error { fields["error"] = "\(error)" }
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) where fields[key] == nil {
            fields[key] = "\(value)"
        }
        guard var line = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        line.append(UInt8(ascii: "\n"))
        write(line)
    }

    /// Uses JSON lines for every logger (`LOG_FORMAT` unset, empty or `json`), or plain text
    /// (`LOG_FORMAT=text`); any other value ends the process with a message
    /// (``refuseSetting(_:)``) rather than logging in a format nobody asked for.
    public static func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment) {
        switch environment["LOG_FORMAT"]?.lowercased() {
        case nil, "", "json": LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        case "text": LoggingSystem.bootstrap(StreamLogHandler.standardOutput)
        case let other?: refuseSetting("LOG_FORMAT is json or text, not \(other.prefix(20))")
        }
    }
}
