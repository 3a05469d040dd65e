/// How long to wait before trying again: `base · 2^attempt`, at most `maximum`, then jittered to
/// between half and all of it, so that retries from many callers spread out.
public struct RetryBackoff: Sendable, Hashable {
    public var base: Duration
    public var maximum: Duration

    public init(base: Duration, maximum: Duration) {
        self.base = base
        self.maximum = maximum
    }

    /// The wait after `attempt` failed attempts (0 for the first retry).
    public func delay(afterAttempt attempt: Int) -> Duration {
        let exponential = base * (1 << min(max(attempt, 0), 20))
        return min(exponential, maximum) * Double.random(in: 0.5...1.0)
    }
}
