import AuditLog
import ClusterModel
import ControlPlane
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Journal
import Logging
import NIOCore
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
    /// Timeouts and caps on what clients may ask of the server.
    public var limits: ServerLimits
    /// Serve a journal whose hash chain does not verify, on this user's word (recorded in the
    /// journal as `ChainBreakAccepted` events); nil: refuse it.
    public var acceptBrokenChainAs: String?
    /// The largest the journal's map may grow to (the analogue of etcd's `--quota-backend-bytes`).
    public var maxJournalBytes = JournalOptions().maxMapSize
    /// kube-controller-manager's and kube-apiserver's timing flags for the components.
    public var settings = Driver.Settings()
    /// The DefaultTolerationSeconds admission plugin's settings.
    public var admission = Defaults.Admission()
    /// Where and how to write the audit log (`--audit-log`, `--audit-policy`); nil: none.
    public var audit: AuditBackend?

    public init(journalPath: String, host: String = "127.0.0.1", port: Int = 6443, nodes: [SimulatedNode], tokenFile: String? = nil,
                limits: ServerLimits = ServerLimits(), acceptBrokenChainAs: String? = nil) {
        self.journalPath = journalPath
        self.host = host
        self.port = port
        self.nodes = nodes
        self.tokenFile = tokenFile
        self.limits = limits
        self.acceptBrokenChainAs = acceptBrokenChainAs
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
        // The journal's directory, if new, is the server's own: private to its user.
        if !FileManager.default.fileExists(atPath: config.journalPath) {
            try FileManager.default.createDirectory(atPath: config.journalPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        var options = JournalOptions(initialMapSize: min(JournalOptions().initialMapSize, config.maxJournalBytes), maxMapSize: config.maxJournalBytes)
        if let user = config.acceptBrokenChainAs { options = options.acceptingBrokenChain(actor: .user(user)) }
        let journal = try Journal.open(at: config.journalPath, options: options)
        defer { journal.close() }
        let lock = try ServeLock.acquire(journal: config.journalPath)
        defer { lock.release() }

        let files = ServeFiles(journal: config.journalPath)
        let tokenPath = config.tokenFile ?? files.tokens
        if config.tokenFile == nil, try files.ensureTokens() { logger.info("created an admin token", metadata: ["file": .string(files.tokens)]) }
        files.keepPrivate(logger: logger)
        let tokens = try TokenFile.load(tokenPath)
        var limits = config.limits
        let certificates = try ServingCertificates(files: files).load(host: config.host, minimumVersion: limits.tlsMinimumVersion)
        let room = ServerLimits.connectionsTheFileLimitAllows()
        if room < limits.maxConnections {
            logger.notice("fewer connections than asked: the file limit leaves room for \(room)", metadata: ["max-connections": .stringConvertible(limits.maxConnections)])
            limits.maxConnections = room
        }

        let metrics = ServerMetrics()
        metrics.observe(journal)
        let clock = WallClock()
        let store = try await Store.open(journal: journal, clock: clock, options: Store.Options(admission: config.admission))
        store.spaceAlarm.onChange { reason in
            // etcd's NOSPACE alarm, in the log: when writes stop being accepted, and when they resume.
            if let reason {
                logger.error("the journal has no space left: writes are refused, reads go on", metadata: ["reason": .string(reason)])
            } else {
                logger.notice("the journal has space again: writes resume")
            }
        }
        metrics.observe(store.spaceAlarm)
        let started = try await recordStart(store: store, config: config, previousRun: lock.previousRun, logger: logger)
        let api = KubeAPI(store: store, tokens: tokens, metrics: metrics, minRequestTimeout: limits.minRequestTimeout, watchWindow: limits.watchWindow)

        let router = KubeRoutes.router(api: api, middleware: requestChain(api: api, metrics: metrics, limits: limits, logger: logger, audit: config.audit),
                                       audit: config.audit)
        let connections = ConnectionCount(limit: limits.maxConnections)
        let http1 = HTTP1Channel.Configuration(idleTimeout: TimeAmount(limits.idleTimeout))
        let server = HTTPServerBuilder { [limits] responder in
            GuardedChannel(base: try TLSChannel(HTTP1Channel(responder: responder, configuration: http1), tlsConfiguration: certificates.tls),
                           limits: limits, connections: connections)
        }
        let app = Application(
            router: router,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(config.host, port: config.port), serverName: "kubejournal"),
            // Services stop in reverse order: the components first, then the audit log of their writes.
            services: (config.audit.map { [ComponentAuditService(backend: $0, store: store, after: started.revision)] } ?? [])
                + [DriverService(store: store, nodes: config.nodes, settings: config.settings, started: started.time, metrics: metrics, clock: clock, logger: logger)],
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

    /// Appends `ControlPlaneStarted`: the run's nodes and settings (what a replay needs to run the
    /// same components), how long after the journal's last event it starts, and how the previous
    /// run ended (the components then resume from the journal).
    @discardableResult
    static func recordStart(store: Store, config: ServeConfiguration, previousRun: ServeLock.PreviousRun, logger: Logger) async throws -> Event {
        let head = try store.journal.head()
        let now = store.clock.now()
        var data = ControlPlaneStarted(server: "kj serve", version: Discovery.version["gitVersion"]?.stringValue ?? "", nodes: config.nodes.map(\.name),
                                       previousRun: .init(rawValue: previousRun.rawValue), resumedAt: Int64(head.revision))
        config.settings.record(in: &data, nodes: config.nodes)
        data.defaultNotReadyTolerationSeconds = config.admission.notReadyTolerationSeconds
        data.defaultUnreachableTolerationSeconds = config.admission.unreachableTolerationSeconds
        if head.revision > 0 { data.sinceLastEventSeconds = max(0, head.time.microseconds(until: now)) / 1_000_000 }
        let event = try await store.record(EventDraft(
            time: now, type: ClusterEventType.controlPlaneStarted, actor: Actor(kind: "controlplane", name: "kj-serve"),
            object: ObjectRef(kind: "Cluster", name: "cluster"), observed: head.revision, data: data.json.serialized()))
        if previousRun == .unclean { logger.notice("the previous kj serve on this journal did not stop cleanly; resuming from the journal") }
        return event
    }

    /// The middleware every request passes, outermost first.
    @MiddlewareFixedTypeBuilder<Request, Response, KubeRequestContext>
    static func requestChain(api: KubeAPI, metrics: ServerMetrics, limits: ServerLimits, logger: Logger,
                             audit: AuditBackend? = nil) -> some MiddlewareProtocol<Request, Response, KubeRequestContext> {
        RequestInfoMiddleware()
        RequestLogMiddleware(logger: logger, api: api)
        RequestMetricsMiddleware(metrics: metrics)
        FailedAuthenticationAuditMiddleware(backend: audit)
        AuthenticationMiddleware(api: api)
        MaxInFlightMiddleware(limits: limits)
    }
}

/// Runs the components on the wall clock until graceful shutdown. The driver and the components
/// are made inside the service's own task and never leave it.
struct DriverService: ServiceLifecycle.Service {
    let store: Store
    let nodes: [SimulatedNode]
    let settings: Driver.Settings
    /// When `ControlPlaneStarted` says this run started: the components start from then.
    let started: Timestamp
    let metrics: ServerMetrics
    let clock: WallClock
    let logger: Logger

    func run() async throws {
        let (store, nodes, settings, started, metrics, clock, logger) = (self.store, self.nodes, self.settings, self.started, self.metrics, self.clock, self.logger)
        try await cancelOnGracefulShutdown {
            let kubelets = KubeletFleet(nodes: nodes, start: started)
            let components = Driver.standardComponents(seed: store.seed, kubelets: kubelets, settings: settings) + [DecisionMetrics(metrics)]
            let driver = try Driver(store: store, components: components, kubelets: kubelets, now: { clock.now() })
            driver.logger = logger
            do {
                try await driver.runLive(startingAt: started)
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
        guard let t = target(path: path) else {
            return (method.lowercased(), path.split(separator: "/").first.map(String.init) ?? "")
        }
        let resource = t.kind.plural + (t.subresource.map { "/" + $0 } ?? "")
        switch method {
        case "GET": return (t.name != nil ? "get" : (query["watch"].map(QueryParameter.bool) == true ? "watch" : "list"), resource)
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

    public static func lockPath(journal: String) -> String { journal + "/serve.lock" }

    /// How the server before this one on the journal ended.
    public enum PreviousRun: String, Sendable {
        /// No `kj serve` ran on this journal before.
        case none
        /// It stopped on a signal, cleanly.
        case clean
        /// It was killed, or crashed: it left its address in the lock file.
        case unclean
    }

    /// How the previous server on the journal ended, read when the lock was taken.
    let previousRun: PreviousRun

    init(fd: Int32, path: String, previousRun: PreviousRun) {
        self.fd = fd
        self.path = path
        self.previousRun = previousRun
    }

    static func acquire(journal: String) throws -> ServeLock {
        let path = lockPath(journal: journal)
        let existed = FileManager.default.fileExists(atPath: path)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ServeError("cannot open \(path): \(String(cString: strerror(errno)))") }
        _ = fchmod(fd, 0o600)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ServeError("another kj serve holds \(journal): \(holder(journal: journal) ?? "unknown")")
        }
        // A clean stop empties the file (`release`); a killed server leaves its address in it.
        var byte: UInt8 = 0
        let leftover = pread(fd, &byte, 1, 0) == 1
        return ServeLock(fd: fd, path: path, previousRun: !existed ? .none : (leftover ? .unclean : .clean))
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
