import NIOCore

extension EventLoopPromise where Value: Sendable {
    /// Succeeds with what `body` returns, or fails with the error it throws: how a reply callback
    /// completes its promise from a typed-throwing decoder, with no `Result` mapped to `any Error`.
    @inlinable
    public func complete<Failure: Error>(catching body: () throws(Failure) -> Value) {
        do {
            succeed(try body())
        } catch {
            fail(error)
        }
    }
}
