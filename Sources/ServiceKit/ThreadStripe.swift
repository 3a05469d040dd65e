#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Which of several copies of shared state the calling thread works in: each thread is given
/// the next number the first time it asks and keeps it, so the event loops of one process (a
/// handful of threads) each land in their own stripe and do not wait on each other's locks.
public enum ThreadStripe {
    private static let assigned = Atomic<Int>(0)
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left")
        return key
    }()

    /// The calling thread's stripe among `count` (0..<count).
    public static func current(of count: Int) -> Int {
        if let stored = pthread_getspecific(key) { return (Int(bitPattern: stored) - 1) % count }
        let number = assigned.add(1, ordering: .relaxed).newValue
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: number))
        return (number - 1) % count
    }
}
