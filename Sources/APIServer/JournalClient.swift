import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Yams

/// Reads a `kj serve`'s journal endpoints (`/kj/v1/…`) over HTTPS with a bearer token — what
/// `kj … --server URL` uses instead of opening the journal — and injects faults (`kj fault`, `kj node`).
public final class JournalClient: Sendable {
    public let baseURL: String
    let host: String
    let port: Int
    let token: String?
    let tls: TLSConfiguration

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `server` (https://host:port) with the token and CA of a kubeconfig's current context
    /// (`kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config`; none is fine for a public server).
    public init(server: String, kubeconfig: String?) throws {
        guard let url = URL(string: server), url.scheme == "https", let host = url.host else {
            throw Failure(description: "--server wants https://HOST:PORT, got \(server)")
        }
        baseURL = server
        self.host = host
        port = url.port ?? 443
        var tls = TLSConfiguration.makeClientConfiguration()
        let credentials = try Self.credentials(kubeconfig)
        token = credentials.token
        if let ca = credentials.caPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.utf8)))
        }
        self.tls = tls
    }

    /// `server`, or else the server of the kubeconfig's current context.
    public convenience init(server: String?, kubeconfig: String?) throws {
        guard let url = try server ?? Self.credentials(kubeconfig).server else {
            throw Failure(description: "no server: give --server https://HOST:PORT, or a kubeconfig (--kubeconfig, $KUBECONFIG) whose current context names one")
        }
        try self.init(server: url, kubeconfig: kubeconfig)
    }

    /// The server, token and CA certificate of a kubeconfig's current context.
    static func credentials(_ path: String?) throws -> (token: String?, caPEM: String?, server: String?) {
        let env = ProcessInfo.processInfo.environment
        let file = path ?? env["KUBECONFIG"].flatMap { $0.split(separator: ":").first.map(String.init) } ?? (NSHomeDirectory() + "/.kube/config")
        guard let data = FileManager.default.contents(atPath: file) else {
            if path != nil { throw Failure(description: "cannot read kubeconfig \(file)") }
            return (nil, nil, nil)
        }
        guard let config = try Yams.load(yaml: String(decoding: data, as: UTF8.self)) as? [String: Any] else {
            throw Failure(description: "\(file) is not a kubeconfig")
        }
        func named(_ list: String, _ name: String?) -> [String: Any]? {
            (config[list] as? [[String: Any]])?.first { $0["name"] as? String == name }
        }
        let context = named("contexts", config["current-context"] as? String)?["context"] as? [String: Any]
        let cluster = named("clusters", context?["cluster"] as? String)?["cluster"] as? [String: Any]
        let user = named("users", context?["user"] as? String)?["user"] as? [String: Any]
        var ca: String?
        if let b64 = cluster?["certificate-authority-data"] as? String, let d = Data(base64Encoded: b64) {
            ca = String(decoding: d, as: UTF8.self)
        } else if let caFile = cluster?["certificate-authority"] as? String {
            ca = try String(contentsOfFile: caFile, encoding: .utf8)
        }
        return (user?["token"] as? String, ca, cluster?["server"] as? String)
    }

    /// GETs `path` (with its query); `chunk`, if given, receives the body as it arrives and may
    /// stop it by returning false. Returns the status and (without `chunk`) the body.
    public func get(_ path: String, chunk: (@Sendable ([UInt8]) -> Bool)? = nil) throws -> (status: Int, body: [UInt8]) {
        try send(.GET, path, body: nil, chunk: chunk)
    }

    /// POSTs a JSON body to `path`; returns the status and the body of the answer.
    public func post(_ path: String, json: [UInt8]) throws -> (status: Int, body: [UInt8]) {
        try send(.POST, path, body: json, chunk: nil)
    }

    private func send(_ method: HTTPMethod, _ path: String, body: [UInt8]?, chunk: (@Sendable ([UInt8]) -> Bool)?) throws -> (status: Int, body: [UInt8]) {
        let group = MultiThreadedEventLoopGroup.singleton
        let sslContext = try NIOSSLContext(configuration: tls)
        let done = group.next().makePromise(of: (Int, [UInt8]).self)
        let serverHostname = host.first?.isNumber == true || host.contains(":") ? nil : host
        let bootstrap = ClientBootstrap(group: group).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(ResponseCollector(done: done, chunk: chunk))
            }
        }
        let channel: Channel
        do {
            channel = try bootstrap.connect(host: host, port: port).wait()
        } catch {
            throw Failure(description: "cannot reach \(baseURL): \(error)")
        }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Accept", value: "application/json")
        if let token { head.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer { channel.close(promise: nil) }
        do {
            let (status, body) = try done.futureResult.wait()
            return (status, body)
        } catch {
            throw Failure(description: "request to \(baseURL)\(path) failed: \(error)")
        }
    }

    /// GETs a JSON document and decodes it; a non-200 answer becomes its `Status` message.
    public func fetch<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        let (status, body) = try get(path)
        guard status == 200 else {
            let message = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["message"] as? String
            throw Failure(description: message ?? "\(baseURL) answered \(status)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw Failure(description: "unexpected answer from \(baseURL)\(path): \(error)")
        }
    }

    /// A path with its query, percent-encoded.
    public static func path(_ path: String, _ query: [(String, String?)]) -> String {
        var c = URLComponents()
        c.path = path
        let items = query.compactMap { k, v in v.map { URLQueryItem(name: k, value: $0) } }
        if !items.isEmpty { c.queryItems = items }
        return c.string ?? path
    }
}

/// Collects one HTTP response (or streams its body to `chunk`).
private final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let done: EventLoopPromise<(Int, [UInt8])>
    let chunk: (@Sendable ([UInt8]) -> Bool)?
    var status = 0
    var body: [UInt8] = []
    var finished = false

    func finish(_ result: Result<(Int, [UInt8]), Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
    }

    init(done: EventLoopPromise<(Int, [UInt8])>, chunk: (@Sendable ([UInt8]) -> Bool)?) {
        self.done = done
        self.chunk = chunk
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(let buffer):
            let bytes = Array(buffer.readableBytesView)
            if let chunk, status == 200 {
                if !chunk(bytes) {
                    finish(.success((status, [])))
                    context.close(promise: nil)
                }
            } else {
                body += bytes
            }
        case .end:
            finish(.success((status, body)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.success((status, body)))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }
}
