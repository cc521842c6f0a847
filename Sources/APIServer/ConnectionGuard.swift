import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// The connection-level defences of `kj serve`, around Hummingbird's TLS and HTTP/1 channel: a cap
/// on open connections, and deadlines for the TLS handshake, a request's header and its body. (The
/// wait between requests is Hummingbird's `idleTimeout`.)
struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let limits: ServerLimits
    let connections: ConnectionCount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let admitted = connections.open()
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            guard admitted else {
                // Over the cap: closed before the TLS handshake; the connection's task ends at once.
                logger.debug("connection refused: \(connections.limit) connections open")
                channel.close(promise: nil)
                return value
            }
            channel.closeFuture.whenComplete { _ in connections.close() }
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(RequestDeadlines(header: TimeAmount(limits.readHeaderTimeout), body: TimeAmount(limits.readTimeout)),
                                    position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Open connections, counted against a cap.
final class ConnectionCount: Sendable {
    let limit: Int
    private let count = Atomic(0)

    init(limit: Int) { self.limit = limit }

    var current: Int { count.load(ordering: .relaxed) }

    /// Counts a new connection if the cap allows it.
    func open() -> Bool {
        var current = count.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, found) = count.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = found
        }
        return false
    }

    func close() { count.subtract(1, ordering: .relaxed) }
}

/// Closes a connection whose client is too slow: no complete first header `header` after the
/// connection was set up (the TLS handshake included), or a body that has not ended `body` after
/// its header. An answer given before its request was read whole (a refusal such as 401, 413 or
/// 429) says `Connection: close`, reading stops, and the connection closes once it is sent: the
/// rest of the body is never read (what was already in flight, a few hundred KiB at most, is).
/// A shutdown does not wait for a request that is still arriving.
final class RequestDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let header: TimeAmount
    private let body: TimeAmount
    private var deadline: Scheduled<Void>?
    /// A request's header has arrived and its end has not.
    private var readingRequest = false

    init(header: TimeAmount, body: TimeAmount) {
        self.header = header
        self.body = body
    }

    func handlerAdded(context: ChannelHandlerContext) {
        expire(after: header, context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            readingRequest = true
            expire(after: body, context)
        case .body:
            break
        case .end:
            readingRequest = false
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard readingRequest else { return context.write(data, promise: promise) }
        switch unwrapOutboundIn(data) {
        case .head(var head):
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            // Nothing more is read: the client's remaining bytes stay in its own buffers.
            try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            written.futureResult.hop(to: context.eventLoop).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// On shutdown, a request still arriving is not waited for: its connection closes now (one
    /// whose body has arrived is answered first, as Hummingbird does for every connection).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, readingRequest {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func expire(after amount: TimeAmount, _ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: amount) { context.close(promise: nil) }
    }
}
