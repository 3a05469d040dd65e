import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Responses of this gateway instance counted per second over the last minute, by status class:
/// what the operator console shows as request and error rates.
final class TrafficWindow: Sendable {
    /// One second's counts.
    struct Second: Sendable, Hashable, Codable {
        var second: Int64
        var total = 0
        var clientErrors = 0
        var rateLimited = 0
        var serverErrors = 0

        enum CodingKeys: String, CodingKey {
            case second, total, clientErrors = "client_errors", rateLimited = "rate_limited", serverErrors = "server_errors"
        }
    }

    static let seconds = 60
    private let buckets: Mutex<[Second]>
    private let now: @Sendable () -> Int64

    init(now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.now = now
        self.buckets = Mutex(Array(repeating: Second(second: -1), count: Self.seconds))
    }

    func record(_ status: HTTPResponse.Status) {
        let second = now()
        buckets.withLock { buckets in
            let index = Int(second % Int64(Self.seconds))
            if buckets[index].second != second { buckets[index] = Second(second: second) }
            buckets[index].total += 1
            switch status.code {
            case 429: buckets[index].clientErrors += 1; buckets[index].rateLimited += 1
            case 400..<500: buckets[index].clientErrors += 1
            case 500...: buckets[index].serverErrors += 1
            default: break
            }
        }
    }

    /// The last minute, oldest second first; the current (incomplete) second is left out.
    func summary() -> TrafficSummary {
        let current = now()
        let stored = buckets.withLock { $0 }
        var perSecond: [Second] = []
        for second in (current - Int64(Self.seconds))..<current {
            let bucket = stored[Int(second % Int64(Self.seconds))]
            perSecond.append(bucket.second == second ? bucket : Second(second: second))
        }
        return TrafficSummary(
            windowSeconds: Self.seconds,
            total: perSecond.reduce(0) { $0 + $1.total },
            clientErrors: perSecond.reduce(0) { $0 + $1.clientErrors },
            rateLimited: perSecond.reduce(0) { $0 + $1.rateLimited },
            serverErrors: perSecond.reduce(0) { $0 + $1.serverErrors },
            perSecond: perSecond
        )
    }
}

/// `GET /admin/v1/traffic`.
struct TrafficSummary: ResponseEncodable, Hashable {
    var windowSeconds: Int
    var total: Int
    var clientErrors: Int
    var rateLimited: Int
    var serverErrors: Int
    var perSecond: [TrafficWindow.Second]

    enum CodingKeys: String, CodingKey {
        case windowSeconds = "window_seconds", total, clientErrors = "client_errors", rateLimited = "rate_limited"
        case serverErrors = "server_errors", perSecond = "per_second"
    }
}

/// Counts every response (errors included) into the traffic window, except the admin API's own.
struct TrafficMiddleware<Context: RequestContext>: RouterMiddleware {
    let window: TrafficWindow

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !request.uri.path.hasPrefix("/admin/") else { return try await next(request, context) }
        do {
            let response = try await next(request, context)
            window.record(response.status)
            return response
        } catch let error as any HTTPResponseError {
            window.record(error.status)
            throw error
        } catch {
            window.record(.internalServerError)
            throw error
        }
    }
}
