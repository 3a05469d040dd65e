import Foundation
import Synchronization

/// The `Date` field (RFC 9110's IMF-fixdate, always GMT) that answers written on an event loop
/// carry: the gateway edge's own answers and upstream answers that came without one, a
/// service's fast routes. Made at most once a second and shared by every connection.
public enum HTTPDate {
    private static let cached = Mutex<(second: Int, text: String)>((-1, ""))
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The current second, as `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static var now: String {
        let second = Int(time(nil))
        return cached.withLock { cache in
            if cache.second != second { cache = (second, text(of: second)) }
            return cache.text
        }
    }

    /// The IMF-fixdate of `second` (seconds since 1970, UTC).
    public static func text(of second: Int) -> String {
        var clock = time_t(second)
        var parts = tm()
        gmtime_r(&clock, &parts)
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[Int(parts.tm_wday)]), \(twoDigits(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT"
    }
}
