import Foundation
import Logging
import Metrics
import Synchronization

/// Whether this gateway process is the only one of its fleet publishing under its instance name.
///
/// Two gateways started with the same `GATEWAY_INSTANCE` write one report key in turn: the
/// fleet's view counts one of them and loses the other's traffic, their route-table stamps
/// overwrite each other, and each takes the other's `Via` entry for its own (a request through
/// both is refused as a loop). Each report carries a token drawn when the process starts; once
/// this process has published, the report it replaces is its own unless another process wrote
/// in between. Such a write marks the name shared for ``memory``: it is logged as an error,
/// `gateway_fleet_instance_name_shared{name}` is 1 and the instance's reports say so, which the
/// console shows beside the instance.
final class InstanceNameClaim: Sendable {
    /// How long a conflict is remembered after another process last overwrote the report.
    static let memory: Duration = .seconds(5)

    /// This process's token, drawn at start.
    let process: String
    private let state = Mutex(State())
    private let now: @Sendable () -> ContinuousClock.Instant

    private struct State {
        var published = false
        var lastOverwrite: ContinuousClock.Instant?
        var otherProcess: String?
    }

    init(process: String = InstanceNameClaim.drawProcessToken(), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.process = process
        self.now = now
    }

    /// A random token naming this process among those of its fleet (16 hex digits).
    static func drawProcessToken() -> String {
        String(UInt64.random(in: .min ... .max), radix: 16).leftPadded(to: 16)
    }

    /// Whether another process has published under this name within ``memory``.
    var isShared: Bool {
        state.withLock { state in state.lastOverwrite.map { now() - $0 < Self.memory } ?? false }
    }

    /// Takes note of the report this process's latest report replaced (`previousProcess`: the token
    /// it carried, nil when there was none or it carried none) and logs a change of state.
    func published(replacing previousProcess: String?, instance: String, fleet: String, logger: Logger) {
        let at = now()
        let (wasShared, isShared, other) = state.withLock { state -> (Bool, Bool, String?) in
            let wasShared = state.lastOverwrite.map { at - $0 < Self.memory } ?? false
            if state.published, let previousProcess, previousProcess != process {
                state.lastOverwrite = at
                state.otherProcess = previousProcess
            }
            state.published = true
            let isShared = state.lastOverwrite.map { at - $0 < Self.memory } ?? false
            return (wasShared, isShared, state.otherProcess)
        }
        if isShared, !wasShared {
            logger.error(
                "another gateway process publishes to the fleet under this instance's name: give each gateway its own GATEWAY_INSTANCE",
                metadata: ["instance": "\(instance)", "fleet": "\(fleet)", "process": "\(process)", "other_process": "\(other ?? "?")"]
            )
        } else if wasShared, !isShared {
            logger.notice("no other gateway process has published under this instance's name lately", metadata: ["instance": "\(instance)"])
        }
        Metrics.Gauge(label: "gateway_fleet_instance_name_shared", dimensions: [("name", instance)]).record(isShared ? 1 : 0)
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
