import Foundation

/// Ends the process before it starts serving, with `message` on standard error and exit status 64
/// (`EX_USAGE`): for a setting from the environment that cannot be read, where starting on the
/// default instead would hide the mistake (`GATEWAY_PORT=80800`, `HOLD_SECONDS=10m`).
public func refuseSetting(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(64)
}
