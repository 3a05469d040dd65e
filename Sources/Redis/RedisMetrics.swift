import Metrics
import Synchronization

/// `redis_command_duration_seconds{command}`: the latency Redis callers see, failures included.
enum RedisMetrics {
    private static let timers = Mutex<[String: Metrics.Timer]>([:])

    static func record(command: RedisCommand, duration: Duration) {
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
