import ServiceLifecycle

extension RedisClient: Service {
    /// Keeps the client's connections while its service group runs and closes them at the
    /// group's graceful shutdown or on cancellation. Listed before the services that use it,
    /// it closes after they have stopped.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}
