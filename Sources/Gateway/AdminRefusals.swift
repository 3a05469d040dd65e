import Logging
import Metrics
import Synchronization

/// Requests the admin API refused (401, or 403 for a user without the `admin` role): each is
/// counted in `gateway_admin_refused_total{reason}` and logged as a warning, `admin access
/// refused`, with its reason, method, path, client address and, for a user's token, the user.
/// Someone trying tokens against the admin API shows in the log and on a dashboard. A flood of
/// them cannot flood the log: at most ``linesPerSecond`` lines are written a second, and the
/// next line written says how many were left out (`suppressed`); the counter counts them all.
final class AdminRefusals: Sendable {
    /// Why a request was refused.
    enum Reason: String, CaseIterable, Sendable {
        /// No `Authorization` field.
        case missing
        /// Not `Bearer <token>`.
        case malformed
        /// Neither the admin token nor an access token.
        case invalidToken = "invalid_token"
        /// An access token that did not verify (signature, expiry, revocation).
        case invalidAccessToken = "invalid_access_token"
        /// A valid access token of a user without the `admin` role (403).
        case roleRequired = "role_required"
    }

    /// Most lines logged in one second.
    static let linesPerSecond = 5

    private let counters: [Reason: Metrics.Counter]
    private let budget = Mutex(Budget())
    private let now: @Sendable () -> ContinuousClock.Instant

    private struct Budget {
        var secondStarted: ContinuousClock.Instant?
        var logged = 0
        var suppressed = 0
    }

    init(now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.now = now
        var counters: [Reason: Metrics.Counter] = [:]
        for reason in Reason.allCases { counters[reason] = Metrics.Counter(label: "gateway_admin_refused_total", dimensions: [("reason", reason.rawValue)]) }
        self.counters = counters
    }

    /// Counts and, within the budget, logs one refused request.
    func record(_ reason: Reason, method: String, path: String, client: String, user: String? = nil, logger: Logger) {
        counters[reason]?.increment()
        let at = now()
        let suppressed = budget.withLock { budget -> Int? in
            if budget.secondStarted.map({ at - $0 >= .seconds(1) }) ?? true {
                budget.secondStarted = at
                budget.logged = 0
            }
            guard budget.logged < Self.linesPerSecond else {
                budget.suppressed += 1
                return nil
            }
            budget.logged += 1
            defer { budget.suppressed = 0 }
            return budget.suppressed
        }
        guard let suppressed else { return }
        var metadata: Logger.Metadata = [
            "reason": .string(reason.rawValue), "method": .string(method), "path": .string(path), "client": .string(client),
        ]
        if let user { metadata["user"] = .string(user) }
        if suppressed > 0 { metadata["suppressed"] = .stringConvertible(suppressed) }
        logger.warning("admin access refused", metadata: metadata)
    }
}
