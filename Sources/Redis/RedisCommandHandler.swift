import DequeModule
import NIOCore

/// One encoded command on its way to the server, with where its reply goes.
struct RedisRequest: Sendable {
    var encoded: ByteBuffer
    var reply: RedisReplyTarget
    var timeout: TimeAmount
}

/// Where a command's reply goes: a promise, or a callback on the connection's event loop (which
/// spares a caller on that loop a promise of its own).
enum RedisReplyTarget: Sendable {
    case promise(EventLoopPromise<RedisValue>)
    case callback(@Sendable (Result<RedisValue, any Error>) -> Void)

    func succeed(_ value: RedisValue) {
        switch self {
        case .promise(let promise): promise.succeed(value)
        case .callback(let callback): callback(.success(value))
        }
    }

    func fail(_ error: any Error) {
        switch self {
        case .promise(let promise): promise.fail(error)
        case .callback(let callback): callback(.failure(error))
        }
    }
}

/// Matches replies to commands in the order they were written, so many commands can be in
/// flight on one connection.
///
/// Writes are flushed once per event-loop tick, so commands from many callers share a syscall.
/// A single timer watches the earliest deadline; a command that times out keeps its place
/// in the queue so that its late reply is discarded rather than handed to the next command.
/// When the connection dies, every command still waiting fails with `RedisError.connectionClosed`.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RedisValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        /// Nil once the command has timed out: its reply is then read and dropped.
        var reply: RedisReplyTarget?
        var deadline: NIODeadline
        var timeout: TimeAmount
    }

    private var pending: Deque<Pending> = []
    private var isActive = true
    private var flushScheduled = false
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    /// Commands written and not yet answered (timed-out ones included).
    var inFlight: Int { pending.count }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard isActive else {
            request.reply.fail(RedisError.connectionClosed)
            promise?.fail(RedisError.connectionClosed)
            return
        }
        let deadline = NIODeadline.now() + request.timeout
        pending.append(Pending(reply: request.reply, deadline: deadline, timeout: request.timeout))
        context.write(wrapOutboundOut(request.encoded), promise: promise)
        scheduleTimer(context: context, for: deadline)
        if !flushScheduled {
            flushScheduled = true
            context.eventLoop.assumeIsolated().execute {
                self.flushScheduled = false
                context.flush()
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let entry = pending.popFirst() else {
            context.fireErrorCaught(RedisError.protocolViolation("reply with no command waiting: \(value)"))
            return
        }
        if case .error(let error) = value {
            entry.reply?.fail(RedisError.server(error))
        } else {
            entry.reply?.succeed(value)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(with: RedisError.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(with: error)
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(with: RedisError.connectionClosed)
    }

    private func failAll(with error: any Error) {
        isActive = false
        timer?.cancel()
        timer = nil
        let failed = pending
        pending.removeAll()
        for entry in failed { entry.reply?.fail(error) }
    }

    private func scheduleTimer(context: ChannelHandlerContext, for deadline: NIODeadline) {
        if let timerDeadline, timerDeadline <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.expire(context: context)
        }
    }

    /// Fails every command past its deadline, then re-arms the timer for the earliest one left.
    private func expire(context: ChannelHandlerContext) {
        timer = nil
        timerDeadline = nil
        let now = NIODeadline.now()
        var next: NIODeadline?
        for index in pending.indices {
            guard let reply = pending[index].reply else { continue }
            let deadline = pending[index].deadline
            if deadline <= now {
                pending[index].reply = nil
                reply.fail(RedisError.timeout(milliseconds: pending[index].timeout.nanoseconds / 1_000_000))
            } else if next.map({ deadline < $0 }) ?? true {
                next = deadline
            }
        }
        if let next { scheduleTimer(context: context, for: next) }
    }
}
