import EmbeddedResources
import NIOCore
import Redis
import ServiceKit

/// The waiting rooms of every event, kept in Redis and changed only by Lua scripts, so that any
/// number of gateways share them.
public struct WaitingRoom: Sendable {
    static let joinScript = RedisScript(EmbeddedLua.queueJoin)
    static let statusScript = RedisScript(EmbeddedLua.queueStatus)
    static let leaveScript = RedisScript(EmbeddedLua.queueLeave)
    static let releaseScript = RedisScript(EmbeddedLua.queueRelease)
    static let statsScript = RedisScript(EmbeddedLua.queueStats)
    static let patchScript = RedisScript(EmbeddedLua.roomPatch)

    public let redis: RedisClient
    /// Recent confirmations of passes' admissions, shared by every copy of this room.
    public let admissions = AdmissionVerdicts()

    public init(redis: RedisClient) {
        self.redis = redis
    }

    /// Joins `visitor` to the event's room, or returns the place they already hold. A room that
    /// asks for proof of work takes a new visitor only with a verified `proof` it has not seen.
    ///
    /// - Throws: `roomNotFound`, `roomClosed`, `proofRequired`, `proofInvalid`, `invalidEvent`, `unavailable`.
    public func join(event: String, visitor: String, proof: JoinProof? = nil) async throws(QueueError) -> JoinResult {
        let reply = try await run(Self.joinScript, event: event, keys: joinKeys(event, proof: proof), arguments: Self.joinArguments(visitor, proof))
        return try Self.joinResult(reply)
    }

    /// ``join(event:visitor:proof:)`` from a channel handler: the script's reply, and the
    /// result, on `eventLoop`; the future fails with a ``QueueError``.
    public func join(event: String, visitor: String, proof: JoinProof?, on eventLoop: any EventLoop) -> EventLoopFuture<JoinResult> {
        let keys: [String]
        do {
            keys = try joinKeys(event, proof: proof)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        return run(Self.joinScript, event: event, keys: keys, arguments: Self.joinArguments(visitor, proof), on: eventLoop, reading: Self.joinResult)
    }

    func joinKeys(_ event: String, proof: JoinProof?) throws(QueueError) -> [String] {
        let keys = try keys(event)
        return [
            keys.room, keys.sequence, keys.waiting, keys.seen, keys.prequeue, keys.visitors, keys.active, keys.stats,
            keys.prefix + "pow:" + (proof?.id ?? "-"),
        ]
    }

    static func joinArguments(_ visitor: String, _ proof: JoinProof?) -> [any RedisArgument] {
        [visitor, proof?.id ?? "", proof?.difficulty ?? 0]
    }

    /// The result of `queue_join.lua`'s reply.
    static func joinResult(_ reply: RedisValue) throws(QueueError) -> JoinResult {
        guard let fields = reply.array, fields.count >= 4, let state = fields[0].string, let joined = fields[1].int else {
            throw .unavailable("unexpected join reply \(reply)")
        }
        let rates = ReleaseRates(
            configured: fields.count > 4 ? fields[4].double ?? 0 : 0,
            observed: fields.count > 5 ? fields[5].double ?? 0 : 0
        )
        let place: VisitorPlace
        var spot: QueueSpot?
        switch state {
        case "waiting":
            let rank = fields[2].int ?? 0
            place = .waiting(position: rank + 1, ahead: rank, waitingCount: fields[3].int ?? 0, rates: rates)
            spot = Self.spot(fields, at: 6)
        case "prequeue":
            place = .prequeue(opensAt: Int64(fields[2].int ?? 0), prequeueCount: fields[3].int ?? 0, idleTimeout: fields.count > 6 ? fields[6].int ?? 0 : 0)
            spot = Self.spot(fields, at: 7)
        case "admitted":
            place = .admitted(Admission(number: fields[3].int ?? 0, expiresAt: Int64(fields[2].int ?? 0)))
        default:
            throw .unavailable("unexpected join state \(state)")
        }
        return JoinResult(joined: joined == 1, place: place, spot: spot)
    }

    /// The visitor's place; polling also keeps it (a visitor who stops polling loses it).
    ///
    /// - Throws: `notInQueue`, `placeLost`, `passExpired`, `roomNotFound`, `unavailable`.
    public func status(event: String, visitor: String) async throws(QueueError) -> VisitorPlace {
        try Self.place(statusReply: try await run(Self.statusScript, event: event, keys: statusKeys(event), arguments: [visitor]))
    }

    /// ``status(event:visitor:)`` from a channel handler: the script's reply, and the place, on
    /// `eventLoop`; the future fails with a ``QueueError``.
    public func status(event: String, visitor: String, on eventLoop: any EventLoop) -> EventLoopFuture<VisitorPlace> {
        let keys: [String]
        do {
            keys = try statusKeys(event)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        return run(Self.statusScript, event: event, keys: keys, arguments: [visitor], on: eventLoop, reading: Self.place(statusReply:))
    }

    /// Runs `script` for `event` from a channel handler: what `reading` makes of the reply, on
    /// `eventLoop`, or a ``QueueError``.
    private func run<Value: Sendable>(
        _ script: RedisScript, event: String, keys: [String], arguments: [any RedisArgument], on eventLoop: any EventLoop,
        reading: @escaping @Sendable (RedisValue) throws(QueueError) -> Value
    ) -> EventLoopFuture<Value> {
        let read = eventLoop.makePromise(of: Value.self)
        redis.run(script, keys: keys, arguments: arguments, on: eventLoop) { result in
            switch result {
            case .success(let reply):
                read.complete(catching: { () throws(QueueError) in try reading(reply) })
            case .failure(let error):
                read.fail(Self.queueError(error, event: event))
            }
        }
        return read.futureResult
    }

    func statusKeys(_ event: String) throws(QueueError) -> [String] {
        let keys = try keys(event)
        return [keys.room, keys.waiting, keys.seen, keys.prequeue, keys.visitors, keys.stats, keys.ended]
    }

    /// The place `queue_status.lua` replied.
    static func place(statusReply reply: RedisValue) throws(QueueError) -> VisitorPlace {
        guard let fields = reply.array, let state = fields.first?.string else {
            throw .unavailable("unexpected status reply \(reply)")
        }
        switch (state, fields.count) {
        case ("waiting", 6...):
            let rank = fields[1].int ?? 0
            let rates = ReleaseRates(configured: fields[3].double ?? 0, observed: fields[4].double ?? 0, idleTimeout: fields[5].int ?? 0)
            return .waiting(position: rank + 1, ahead: rank, waitingCount: fields[2].int ?? 0, rates: rates)
        case ("prequeue", 3...):
            return .prequeue(opensAt: Int64(fields[1].int ?? 0), prequeueCount: fields[2].int ?? 0, idleTimeout: fields.count > 3 ? fields[3].int ?? 0 : 0)
        case ("admitted", 3...):
            return .admitted(Admission(number: fields[2].int ?? 0, expiresAt: Int64(fields[1].int ?? 0)))
        case ("lost", _): throw .placeLost
        case ("expired", _): throw .passExpired
        case ("unknown", _): throw .notInQueue
        default: throw .unavailable("unexpected status reply \(reply)")
        }
    }

    /// Takes the visitor out of the room (an admitted visitor's slot frees). False if they had no place.
    @discardableResult
    public func leave(event: String, visitor: String) async throws(QueueError) -> Bool {
        let keys = try keys(event)
        let reply = try await run(Self.leaveScript, event: event, keys: [
            keys.waiting, keys.seen, keys.prequeue, keys.visitors, keys.active,
        ], arguments: [visitor])
        admissions.forget(event: event, visitor: visitor)
        return reply.int == 1
    }

    /// Releases what the room's rate allows since the last release by anyone, popping at most
    /// `maxBatch` entries, and sweeps silent visitors, frees expired passes and prunes the states
    /// of visitors whose place or pass ended more than `keepEnded` ago (at most `maxBatch` of each
    /// per call, so no call does work proportional to the crowd; `more` says a bound was hit).
    public func release(event: String, maxBatch: Int = 1000, keepEnded: Duration = .seconds(600)) async throws(QueueError) -> ReleaseResult {
        let keys = try keys(event)
        let reply = try await run(Self.releaseScript, event: event, keys: [
            keys.room, keys.waiting, keys.seen, keys.prequeue, keys.visitors, keys.active, keys.stats, keys.releases, keys.ended,
        ], arguments: [maxBatch, Int(keepEnded / .milliseconds(1))])
        guard let fields = reply.array, fields.count == 6 else { throw .unavailable("unexpected release reply \(reply)") }
        return ReleaseResult(
            admitted: fields[0].int ?? 0, abandoned: fields[1].int ?? 0, waiting: fields[2].int ?? 0,
            active: fields[3].int ?? 0, observedRate: fields[4].double ?? 0, more: fields[5].int == 1
        )
    }

    /// The room's figures.
    public func stats(event: String) async throws(QueueError) -> RoomStats {
        let keys = try keys(event)
        let description = try await describe(event: event)
        let reply = try await run(Self.statsScript, event: event, keys: [
            keys.room, keys.waiting, keys.prequeue, keys.visitors, keys.active, keys.stats,
        ], arguments: [])
        guard let fields = reply.array, fields.count == 7 else { throw .unavailable("unexpected stats reply \(reply)") }
        return RoomStats(
            waiting: fields[0].int ?? 0, prequeue: fields[1].int ?? 0, activePasses: fields[2].int ?? 0,
            releasedTotal: fields[3].int ?? 0, abandonedTotal: fields[4].int ?? 0,
            configuredRate: description.configuration.releaseRate, observedRate: fields[5].double ?? 0,
            oldestWaitMilliseconds: fields[6].int ?? 0
        )
    }

    /// The line and score at `index` and `index + 1` of a join reply.
    static func spot(_ fields: [RedisValue], at index: Int) -> QueueSpot? {
        guard fields.count > index + 1, let line = fields[index].string.flatMap(QueueSpot.Line.init(rawValue:)),
              let score = fields[index + 1].string.flatMap({ Int64($0) })
        else { return nil }
        return QueueSpot(line: line, score: score)
    }

    /// The keys of `event`'s room in this deployment's key space.
    public func keys(_ event: String) throws(QueueError) -> QueueKeys {
        guard QueueKeys.isValidEvent(event) else { throw .invalidEvent(event) }
        return QueueKeys(event: event, in: redis.keySpace)
    }

    /// The set of every event id with a room in this deployment's key space.
    var roomsKey: String { QueueKeys.rooms(in: redis.keySpace) }

    func run(_ script: RedisScript, event: String, keys: [String], arguments: [any RedisArgument]) async throws(QueueError) -> RedisValue {
        do {
            return try await redis.run(script, keys: keys, arguments: arguments)
        } catch {
            throw Self.queueError(error, event: event)
        }
    }

    /// The queue's error for a script's failure: its error replies by code, anything else unavailable.
    static func queueError(_ error: RedisError, event: String) -> QueueError {
        guard case .server(let server) = error else { return .unavailable("\(error)") }
        switch server.code {
        case "NOROOM": return .roomNotFound(event: event)
        case "CLOSED": return .roomClosed(event: event)
        case "POWREQUIRED": return .proofRequired(event: event, difficulty: server.message.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0)
        case "POWUSED": return .proofInvalid("the challenge was spent already: get a new one")
        default: return .unavailable("\(error)")
        }
    }
}
