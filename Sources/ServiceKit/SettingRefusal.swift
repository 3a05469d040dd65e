import Foundation

/// Ends the process before it starts serving, with `message` on standard error and exit status 64
/// (`EX_USAGE`): for a setting from the environment that cannot be read, where starting on the
/// default instead would hide the mistake (`GATEWAY_PORT=80800`, `HOLD_SECONDS=10m`).
public func refuseSetting(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(64)
}

/// Reads the whole-number setting `name` from `environment`: nil when it is unset or empty. A value
/// that is not a whole number in `range` ends the process (``refuseSetting(_:)``) with a message
/// naming the range (and `unit`, as in "a whole number of seconds from 1 to 3600"), instead of
/// being clamped or replaced: `HOLD_SECONDS=5` does not quietly become a 30 s hold.
public func environmentInteger(
    _ name: String,
    in range: ClosedRange<Int>,
    unit: String? = nil,
    environment: [String: String] = ProcessInfo.processInfo.environment
) -> Int? {
    guard let text = environment[name], !text.isEmpty else { return nil }
    guard let number = Int(text), range.contains(number) else {
        let kind = unit.map { "a whole number of \($0)" } ?? "a whole number"
        refuseSetting("\(name) must be \(kind) from \(range.lowerBound) to \(range.upperBound), not \(text.prefix(40))")
    }
    return number
}
