import Metrics
import Synchronization

/// `redis_command_duration_seconds{command}`: the latency Redis callers see, failures included.
///
/// Each client keeps its own timers, made by the metrics factory in place when it first sends a
/// command, so the lookup happens once per command name rather than on every call.
final class RedisMetrics: Sendable {
    private let timers = Mutex<[String: Metrics.Timer]>([:])

    func record(command: RedisCommand, duration: Duration) {
        let name = command.name
        let timer = timers.withLock { timers in
            if let timer = timers[name] { return timer }
            let timer = Metrics.Timer(label: "redis_command_duration_seconds", dimensions: [("command", name)])
            timers[name] = timer
            return timer
        }
        timer.record(duration: duration)
    }
}
