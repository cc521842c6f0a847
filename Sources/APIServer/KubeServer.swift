import ClusterModel
import ControlPlane
import Foundation
import Hummingbird
import HummingbirdTLS
import Journal
import Logging
import NodeAgent
import ServiceLifecycle
import Simulation

/// What `kj serve` runs with.
public struct ServeConfiguration: Sendable {
    public var journalPath: String
    public var host: String
    /// 0: any free port.
    public var port: Int
    public var nodes: [SimulatedNode]
    /// A static token file; nil: the one `kj serve` keeps beside the journal (made on first start).
    public var tokenFile: String?

    public init(journalPath: String, host: String = "127.0.0.1", port: Int = 6443, nodes: [SimulatedNode], tokenFile: String? = nil) {
        self.journalPath = journalPath
        self.host = host
        self.port = port
        self.nodes = nodes
        self.tokenFile = tokenFile
    }

    /// `count` nodes named node-1 … node-N with 4 CPUs, 8 GiB and 110 pods each.
    public static func defaultNodes(_ count: Int) -> [SimulatedNode] {
        (1...max(1, count)).map { i in
            SimulatedNode(name: "node-\(i)", capacity: ["cpu": Quantity(4), "memory": Quantity(8 << 30, format: .binarySI), "pods": Quantity(110)], index: i)
        }
    }
}

/// `kj serve`: the journal's single writer, with the Kubernetes API (Hummingbird), the scheduler,
/// the controllers and the simulated kubelets on the wall clock, until SIGINT or SIGTERM.
public enum KubeServer {
    /// Runs until a shutdown signal; `ready` is called once the server listens (with its URL and
    /// the kubeconfig it wrote, if any).
    public static func run(_ config: ServeConfiguration, logger: Logger, ready: @escaping @Sendable (_ url: String, _ kubeconfig: String?) -> Void) async throws {
        let journal = try Journal.open(at: config.journalPath)
        defer { journal.close() }
        let lock = try ServeLock.acquire(journal: config.journalPath)
        defer { lock.release() }

        let files = ServeFiles(journal: config.journalPath)
        let tokenPath = config.tokenFile ?? files.tokens
        if config.tokenFile == nil, try files.ensureTokens() { logger.info("created an admin token", metadata: ["file": .string(files.tokens)]) }
        let tokens = try TokenFile.load(tokenPath)
        let certificates = try ServingCertificates(files: files).load(host: config.host)

        let metrics = ServerMetrics()
        metrics.observe(journal)
        let clock = WallClock()
        let store = try await Store.open(journal: journal, clock: clock)
        let kubelets = KubeletFleet(nodes: config.nodes, start: clock.now())
        let components = Driver.standardComponents(seed: store.seed, kubelets: kubelets) + [DecisionMetrics(metrics)]
        let driver = try Driver(store: store, components: components, kubelets: kubelets, now: { clock.now() })
        let api = KubeAPI(store: store, tokens: tokens, metrics: metrics)

        let responder = CallbackResponder { (request: Request, _: BasicRequestContext) in
            await respond(to: request, api: api, metrics: metrics, logger: logger)
        }
        let app = Application(
            responder: responder,
            server: try .tls(.http1(), tlsConfiguration: certificates.tls),
            configuration: ApplicationConfiguration(address: .hostname(config.host, port: config.port), serverName: "kubejournal"),
            services: [DriverService(driver: UncheckedDriver(driver), logger: logger)],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? config.port
                let url = "https://\(config.host.contains(":") ? "[\(config.host)]" : config.host):\(port)"
                api.serverAddress = "\(config.host):\(port)"
                lock.record(url: url)
                var kubeconfig: String?
                do {
                    try files.writeKubeconfig(server: url, caPEM: certificates.caPEM, tokens: tokens)
                    kubeconfig = files.kubeconfig
                } catch {
                    logger.warning("no kubeconfig written", metadata: ["reason": .string("\(error)")])
                }
                ready(url, kubeconfig)
            },
            logger: logger)
        try await app.runService()
        await store.flushSnapshots()
    }

    /// Turns an HTTP request into an `APIRequest`, and the answer back; counts it for the metrics.
    static func respond(to request: Request, api: KubeAPI, metrics: ServerMetrics, logger: Logger) async -> Response {
        let started = ContinuousClock.now
        var request = request
        let (path, query) = APIRequest.split(target: request.uri.string)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let answer: APIResponse
        do {
            let body = try await request.collectBody(upTo: KubeAPI.maxBodyBytes)
            answer = await api.handle(APIRequest(method: request.method.rawValue, path: path, query: query, headers: headers, body: Array(body.readableBytesView)))
        } catch {
            answer = .status(StatusError(.tooLarge, "Request entity too large: limit is \(KubeAPI.maxBodyBytes)"))
        }
        let (verb, resource) = KubeAPI.classify(method: request.method.rawValue, path: path, query: query)
        let response: Response
        switch answer {
        case .json(let code, let value):
            response = Response(status: .init(code: code), headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serialized())))
        case .document(let code, let value, let type):
            response = Response(status: .init(code: code), headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serialized())))
        case .text(let code, let text, let type):
            response = Response(status: .init(code: code), headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        case .stream(let chunks):
            response = Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(asyncSequence: chunks.map { ByteBuffer(bytes: $0) }.cancelOnGracefulShutdown()))
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        metrics.request(verb: verb, resource: resource, code: response.status.code, seconds: seconds)
        // Writes (and refusals) at info, like an audit log; reads at debug.
        let level: Logger.Level = ["create", "update", "patch", "delete", "deletecollection"].contains(verb) || response.status.code >= 400 ? .info : .debug
        logger.log(level: level, "request", metadata: [
            "verb": .string(verb), "resource": .string(resource), "path": .string(path), "code": .stringConvertible(response.status.code),
            "user": .string(api.tokens.authenticate(headers["authorization"])?.name ?? "anonymous"),
            "ms": .stringConvertible(Int(seconds * 1000)),
        ])
        return response
    }
}

/// The driver, handed to the service group (it is used from that one task only).
struct UncheckedDriver: @unchecked Sendable {
    let driver: Driver
    init(_ driver: Driver) { self.driver = driver }
}

/// Runs the components on the wall clock until graceful shutdown.
struct DriverService: ServiceLifecycle.Service {
    let driver: UncheckedDriver
    let logger: Logger

    func run() async throws {
        let driver = self.driver
        try await cancelOnGracefulShutdown {
            do {
                try await driver.driver.runLive()
            } catch is CancellationError {
            } catch {
                logger.error("the components stopped", metadata: ["error": .string("\(error)")])
                throw error
            }
        }
    }
}

extension KubeAPI {
    /// Kubernetes' verb and resource of a request, for the metrics (`list pods`, `watch pods`, `create deployments`).
    static func classify(method: String, path: String, query: [String: String]) -> (verb: String, resource: String) {
        let segments = path.split(separator: "/").map(String.init)
        var rest: [String] = []
        var groupVersion = ""
        if segments.count > 2, segments[0] == "api" { groupVersion = "v1"; rest = Array(segments[2...]) }
        if segments.count > 3, segments[0] == "apis" { groupVersion = "\(segments[1])/\(segments[2])"; rest = Array(segments[3...]) }
        guard let t = target(groupVersion: groupVersion, rest: rest) else {
            return (method.lowercased(), segments.first ?? "")
        }
        let resource = t.kind.plural + (t.subresource.map { "/" + $0 } ?? "")
        switch method {
        case "GET": return (t.name != nil ? "get" : (query["watch"].map { $0 == "1" || $0 == "true" } == true ? "watch" : "list"), resource)
        case "POST": return ("create", resource)
        case "PUT": return ("update", resource)
        case "PATCH": return ("patch", resource)
        case "DELETE": return (t.name != nil ? "delete" : "deletecollection", resource)
        default: return (method.lowercased(), resource)
        }
    }
}

/// Marks a journal as served: an exclusive `flock` on `serve.lock` beside it, holding the
/// server's URL and pid, so that `kj apply`/`kj delete` can refuse to write around the server.
public final class ServeLock: Sendable {
    let fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    public static func lockPath(journal: String) -> String { journal + "/serve.lock" }

    static func acquire(journal: String) throws -> ServeLock {
        let path = lockPath(journal: journal)
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw ServeError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ServeError("another kj serve holds \(journal): \(holder(journal: journal) ?? "unknown")")
        }
        return ServeLock(fd: fd, path: path)
    }

    func record(url: String) {
        let text = "\(url) pid \(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    func release() {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// The URL and pid of the server holding `journal`, or nil when none does.
    public static func holder(journal: String) -> String? {
        let fd = open(lockPath(journal: journal), O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = read(fd, &buffer, buffer.count)
        let text = String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "a server that is starting" : text
    }
}

public struct ServeError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
