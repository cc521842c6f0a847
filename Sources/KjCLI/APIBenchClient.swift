import Foundation
import Synchronization
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The API benchmark's own HTTP/1.1 client (SwiftNIO): keep-alive connections that send one
/// request after another, and watch connections that only read. Times are taken on the event
/// loop as the bytes arrive, so a busy benchmark process does not shift them.
enum BenchHTTP {
    /// Nanoseconds on the monotonic clock.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Where to connect: `tls` set for `kj serve` (trusting its CA), nil for plain HTTP.
    struct Endpoint: Sendable {
        var host: String
        var port: Int
        var tls: NIOSSLContext?
        var authorization: String?

        /// `https://127.0.0.1:PORT` with the CA in `caFile` and a bearer token.
        static func kj(url: String, caFile: String, token: String) throws -> Endpoint {
            guard let u = URL(string: url), let host = u.host, let port = u.port else { throw CLIError("cannot parse the server URL \(url)") }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            tls.certificateVerification = .noHostnameVerification
            return Endpoint(host: host, port: port, tls: try NIOSSLContext(configuration: tls), authorization: "Bearer \(token)")
        }
    }

    static func connect(_ endpoint: Endpoint, group: EventLoopGroup, handler: @escaping @Sendable (Channel) -> ChannelHandler) async throws -> Channel {
        let tls = endpoint.tls
        return try await ClientBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(handler(channel))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port).get()
    }

    static func head(_ method: HTTPMethod, _ path: String, _ endpoint: Endpoint, contentLength: Int?) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "\(endpoint.host):\(endpoint.port)")
        if let auth = endpoint.authorization { head.headers.add(name: "Authorization", value: auth) }
        if let contentLength {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(contentLength))
        }
        return head
    }

    /// The digits after the first `"resourceVersion":"` in `bytes`, or nil.
    static func resourceVersion(in bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard let base = bytes.baseAddress else { return nil }
        let key = resourceVersionKey
        var i = 0
        while i + key.count < bytes.count, let quote = memchr(base + i, 0x22, bytes.count - key.count - i) {
            i = base.distance(to: UnsafeRawPointer(quote))
            if key.withUnsafeBytes({ memcmp(base + i, $0.baseAddress!, key.count) }) == 0 {
                i += key.count
                var value: UInt64 = 0
                var digits = 0
                while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                    value = value * 10 + UInt64(bytes[i] - 48)
                    i += 1
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            i += 1
        }
        return nil
    }

    static let resourceVersionKey = Array(#""resourceVersion":""#.utf8)
}

/// One answer on a keep-alive connection, and when its last byte arrived.
struct BenchReply: Sendable {
    var status: Int
    var body: ByteBuffer
    var receivedAt: UInt64
}

/// Sends requests one at a time over a keep-alive connection (`send` waits for the answer).
final class BenchExchangeHandler: ChannelDuplexHandler, @unchecked Sendable {
    // Only touched on the channel's event loop.
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    struct Exchange: Sendable {
        var head: HTTPRequestHead
        var body: ByteBuffer?
        var promise: EventLoopPromise<BenchReply>
    }

    private var waiting = CircularBuffer<EventLoopPromise<BenchReply>>()
    private var status = 0
    private var body = ByteBuffer()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let x = unwrapOutboundIn(data)
        waiting.append(x.promise)
        context.write(wrapOutboundOut(.head(x.head)), promise: nil)
        if let b = x.body { context.write(wrapOutboundOut(.body(.byteBuffer(b))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            status = Int(h.status.code)
            body.clear()
        case .body(var b):
            body.writeBuffer(&b)
        case .end:
            let at = BenchHTTP.now()
            if !waiting.isEmpty { waiting.removeFirst().succeed(BenchReply(status: status, body: body, receivedAt: at)) }
            body = ByteBuffer()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: Error) {
        while !waiting.isEmpty { waiting.removeFirst().fail(error) }
    }
}

/// A keep-alive connection for requests and their answers.
struct BenchConnection: Sendable {
    let channel: Channel
    let endpoint: BenchHTTP.Endpoint

    static func open(_ endpoint: BenchHTTP.Endpoint, group: EventLoopGroup) async throws -> BenchConnection {
        BenchConnection(channel: try await BenchHTTP.connect(endpoint, group: group) { _ in BenchExchangeHandler() }, endpoint: endpoint)
    }

    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil) async throws -> BenchReply {
        let promise = channel.eventLoop.makePromise(of: BenchReply.self)
        let buffer = body.map { ByteBuffer(bytes: $0) }
        let exchange = BenchExchangeHandler.Exchange(
            head: BenchHTTP.head(method, path, endpoint, contentLength: buffer?.readableBytes), body: buffer, promise: promise)
        channel.writeAndFlush(exchange, promise: nil)
        return try await promise.futureResult.get()
    }
}

/// A watch: reads JSON lines and keeps, for each, the `resourceVersion` it names and when it
/// arrived. `done` is fulfilled once `expected` lines newer than `after` have arrived, or when
/// the stream ends.
final class BenchWatchHandler: ChannelInboundHandler, @unchecked Sendable {
    // Only touched on the channel's event loop until `done` is fulfilled.
    typealias InboundIn = HTTPClientResponsePart

    let after: UInt64
    let expected: Int
    let started: EventLoopPromise<Int>
    /// Fulfilled by the first line (or the end of the stream).
    let first: EventLoopPromise<Void>
    let done: EventLoopPromise<Void>
    private(set) var revisions: [UInt64] = []
    private(set) var times: [UInt64] = []
    private(set) var counted = 0
    private(set) var status = 0
    private(set) var ended = false
    private var partial: [UInt8] = []

    init(after: UInt64, expected: Int, eventLoop: EventLoop) {
        self.after = after
        self.expected = expected
        started = eventLoop.makePromise()
        first = eventLoop.makePromise()
        done = eventLoop.makePromise()
        revisions.reserveCapacity(expected + 2)
        times.reserveCapacity(expected + 2)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            status = Int(h.status.code)
            started.succeed(status)
        case .body(let b):
            let at = BenchHTTP.now()
            b.withUnsafeReadableBytes { lines($0, at: at) }
        case .end:
            finish()
        }
    }

    private func lines(_ bytes: UnsafeRawBufferPointer, at: UInt64) {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        while start < bytes.count {
            guard let nl = memchr(base + start, 0x0A, bytes.count - start) else {
                partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start...]))
                return
            }
            let end = base.distance(to: UnsafeRawPointer(nl))
            if partial.isEmpty {
                line(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), at: at)
            } else {
                partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                partial.withUnsafeBytes { line($0, at: at) }
                partial.removeAll(keepingCapacity: true)
            }
            start = end + 1
        }
    }

    private func line(_ bytes: UnsafeRawBufferPointer, at: UInt64) {
        guard let rev = BenchHTTP.resourceVersion(in: bytes) else { return }
        if revisions.isEmpty { first.succeed(()) }
        revisions.append(rev)
        times.append(at)
        if rev > after {
            counted += 1
            if counted == expected { done.succeed(()) }
        }
    }

    private func finish() {
        ended = true
        started.succeed(status)
        first.succeed(())
        done.succeed(())
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish()
        context.close(promise: nil)
    }
}

/// An open watch request and its handler.
struct BenchWatch: Sendable {
    let channel: Channel
    let handler: BenchWatchHandler

    static func open(_ endpoint: BenchHTTP.Endpoint, path: String, after: UInt64, expected: Int, group: EventLoopGroup) async throws -> BenchWatch {
        let box = HandlerBox()
        let channel = try await BenchHTTP.connect(endpoint, group: group) { channel in
            // Runs on the channel's event loop.
            let h = BenchWatchHandler(after: after, expected: expected, eventLoop: channel.eventLoop)
            box.handler.withLock { $0 = h }
            return h
        }
        let handler = try await channel.eventLoop.submit { box.handler.withLock { $0! } }.get()
        channel.writeAndFlush(HTTPClientRequestPart.head(BenchHTTP.head(.GET, path, endpoint, contentLength: nil)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return BenchWatch(channel: channel, handler: handler)
    }

    private final class HandlerBox: Sendable {
        let handler = Mutex<BenchWatchHandler?>(nil)
    }
}
