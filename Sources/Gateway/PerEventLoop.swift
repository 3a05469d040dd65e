import NIOCore
import Synchronization

/// One value per event loop, made on first use: state that each loop touches on its own thread
/// only (an upstream pool, a tick's rate-limit charges), found by the loop a connection lives on.
final class PerEventLoop<Value: AnyObject & Sendable>: Sendable {
    private let values = Mutex<[ObjectIdentifier: Value]>([:])
    private let make: @Sendable (any EventLoop) -> Value

    init(_ make: @escaping @Sendable (any EventLoop) -> Value) {
        self.make = make
    }

    /// Every value made so far.
    var all: [Value] {
        values.withLock { Array($0.values) }
    }

    /// The value of `eventLoop`, made now if it has none yet.
    func value(for eventLoop: any EventLoop) -> Value {
        values.withLock { values in
            if let made = values[ObjectIdentifier(eventLoop)] { return made }
            let made = make(eventLoop)
            values[ObjectIdentifier(eventLoop)] = made
            return made
        }
    }
}
