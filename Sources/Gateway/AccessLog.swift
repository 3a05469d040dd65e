import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOPosix
import ServiceKit
import ServiceLifecycle
import Synchronization

/// One JSON line per answered request (`ACCESS_LOG=on`), as nginx's access log keeps: when, the
/// request id, the client's address, the method, the path (never the query, which may carry
/// tokens), the route, the status, the time taken and the user when one was verified. Lines
/// gather in memory and ``AccessLogWriter`` writes them out every 100 ms from a thread of its own,
/// so a request never waits on standard output; past ``maxPending`` bytes waiting (output stuck),
/// lines are dropped and counted in `gateway_access_log_dropped_total`.
public final class AccessLog: Sendable {
    /// Most bytes waiting to be written before lines are dropped.
    static let maxPending = 4 << 20
    /// Longest path written; longer ones are cut.
    static let maxPath = 2_048

    private let pending = Mutex<[UInt8]>([])
    private let dropped = Metrics.Counter(label: "gateway_access_log_dropped_total")
    private let output: @Sendable ([UInt8]) -> Void

    /// - Parameter output: where lines go, a batch at a time (standard output by default).
    public init(output: @escaping @Sendable ([UInt8]) -> Void = AccessLog.standardOutput) {
        self.output = output
    }

    /// Writes `bytes` to standard output whole.
    public static let standardOutput: @Sendable ([UInt8]) -> Void = { bytes in
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Adds the line of one answered request. The line is made before the lock is taken, which
    /// only covers appending it.
    func record(
        method: String, target: String, route: String, status: Int, duration: Duration, client: String, requestID: String, user: String? = nil
    ) {
        var line: [UInt8] = []
        line.reserveCapacity(256 + target.utf8.count)
        line.append(contentsOf: #"{"ts":""#.utf8)
        Self.appendTimestamp(to: &line)
        line.append(contentsOf: #"","type":"access","request_id":"#.utf8)
        line.appendJSONString(requestID)
        line.append(contentsOf: #","client":"#.utf8)
        line.appendJSONString(client)
        line.append(contentsOf: #","method":"#.utf8)
        line.appendJSONString(method)
        line.append(contentsOf: #","path":"#.utf8)
        let path = target.pathWithoutQuery
        line.appendJSONString(path.utf8.count > Self.maxPath ? String(path.prefix(Self.maxPath)) : String(path))
        line.append(contentsOf: #","route":"#.utf8)
        line.appendJSONString(route)
        line.append(contentsOf: #","status":"#.utf8)
        line.appendDecimal(status)
        let micros = Int(duration / .microseconds(1))
        line.append(contentsOf: #","duration_ms":"#.utf8)
        line.appendDecimal(micros / 1000)
        line.append(UInt8(ascii: "."))
        line.appendDecimal(micros % 1000, digits: 3)
        if let user {
            line.append(contentsOf: #","user":"#.utf8)
            line.appendJSONString(user)
        }
        line.append(contentsOf: "}\n".utf8)
        let kept = pending.withLock { pending in
            guard pending.count < Self.maxPending else { return false }
            pending.append(contentsOf: line)
            return true
        }
        if !kept { dropped.increment() }
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, now, in UTC.
    private static func appendTimestamp(to line: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        line.appendDecimal(Int(parts.tm_year) + 1900, digits: 4)
        for (separator, value) in [
            (UInt8(ascii: "-"), Int(parts.tm_mon) + 1), (UInt8(ascii: "-"), Int(parts.tm_mday)), (UInt8(ascii: "T"), Int(parts.tm_hour)),
            (UInt8(ascii: ":"), Int(parts.tm_min)), (UInt8(ascii: ":"), Int(parts.tm_sec)),
        ] {
            line.append(separator)
            line.appendDecimal(value, digits: 2)
        }
        line.append(UInt8(ascii: "."))
        line.appendDecimal(now.tv_nsec / 1_000_000, digits: 3)
        line.append(UInt8(ascii: "Z"))
    }

    /// Writes out the lines gathered so far; false when there were none.
    @discardableResult
    func flush() -> Bool {
        let lines = pending.withLock { pending in
            var lines: [UInt8] = []
            lines.reserveCapacity(min(Self.maxPending, pending.count))
            swap(&lines, &pending)
            return lines
        }
        guard !lines.isEmpty else { return false }
        output(lines)
        return true
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` (≥ 0) in decimal, with leading zeros up to `digits`.
    mutating func appendDecimal(_ value: Int, digits: Int = 1) {
        var divisor = 1
        var width = 1
        while divisor <= value / 10 || width < digits {
            divisor *= 10
            width += 1
        }
        var rest = value
        while divisor > 0 {
            append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}

/// Writes the access log out every 100 ms on a thread of the NIO thread pool, and once more when
/// the gateway stops.
struct AccessLogWriter: Service {
    static let interval: Duration = .milliseconds(100)

    let log: AccessLog

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: Self.interval)
            _ = try? await NIOThreadPool.singleton.runIfActive { log.flush() }
        }
        log.flush()
    }
}

/// Puts every answer of the gateway's router (its own routes: the waiting room's slow paths,
/// accounts, the admin API, pages) in the access log; the edge logs what it answers itself.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let log: AccessLog
    let routeTable: LiveRouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        func record(_ status: HTTPResponse.Status) {
            log.record(
                method: request.method.rawValue, target: request.uri.description, route: context.endpointPath ?? "unmatched",
                status: status.code, duration: ContinuousClock.now - started,
                client: routeTable.clientAddress(peer: context.remoteAddress, headers: request.headers),
                requestID: context.requestID ?? "-"
            )
        }
        return try await recordingStatus({ try await next(request, context) }, record)
    }
}
