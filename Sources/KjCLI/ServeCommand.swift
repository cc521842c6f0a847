import APIServer
import ArgumentParser
import AuditLog
import ClusterModel
import Controllers
import Foundation
import Journal
import Logging
import NIOSSL
import NodeAgent
import Scheduler
import Simulation

/// `kj serve`: the Kubernetes API on a journal, for kubectl and other clients.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Kubernetes API on a journal: kubectl and client libraries work against it, and every write is an event.",
        discussion: """
            The server is the journal's single writer; the scheduler, the controllers and simulated \
            kubelets for the cluster's nodes run in the same process on the wall clock. On first \
            start it makes an admin token (tokens.csv beside the journal) and writes a kubeconfig \
            (kj kubeconfig prints it); its files are 0600. Requests need a bearer token; members of \
            the group kubejournal:viewers may only read. The limits below default to \
            kube-apiserver's; durations are written like 60s, 1m30s or 500ms. SIGINT or SIGTERM \
            stops it cleanly: watches end and the last commit is durable. kj query commands keep \
            reading the journal directly.
            """)

    @OptionGroup var location: JournalLocation
    @Option(help: ArgumentHelp("Address to listen on (port 0: any free port).", valueName: "host:port")) var listen = "127.0.0.1:6443"
    @Option(help: "Simulate this many nodes (node-1 … node-N, 4 CPUs and 8Gi each).") var nodes: Int?
    @Option(help: ArgumentHelp("Take the nodes from a scenario file's cluster section (replay/*.yaml).", valueName: "file")) var cluster: String?
    @Option(help: ArgumentHelp("A static token file (token,user,uid,\"group1,group2\") instead of the one kept beside the journal.", valueName: "file"))
    var tokenFile: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"
    @Option(help: ArgumentHelp("The largest the journal may grow (like etcd's --quota-backend-bytes); beyond it writes are refused with 507 (reads go on) until a restart with a larger size.",
                               valueName: "bytes"))
    var maxSize = ByteSize(JournalOptions().maxMapSize)
    @Option(help: ArgumentHelp("Oldest TLS version clients may use: VersionTLS12 or VersionTLS13.", valueName: "version"))
    var tlsMinVersion = TLSMinimumVersion.tls12
    @Option(help: ArgumentHelp("Non-mutating requests served at once (watches not counted); beyond it 429. 0: no limit.", valueName: "n"))
    var maxRequestsInflight = ServerLimits().maxRequestsInflight
    @Option(help: ArgumentHelp("Mutating requests served at once; beyond it 429. 0: no limit.", valueName: "n"))
    var maxMutatingRequestsInflight = ServerLimits().maxMutatingRequestsInflight
    @Option(help: ArgumentHelp("A watch without timeoutSeconds lasts between this many seconds and twice as long.", valueName: "seconds"))
    var minRequestTimeout = ServerLimits().minRequestTimeout
    @Option(help: ArgumentHelp("How many revisions behind the head a watch may start; an older resourceVersion gets 410 Expired and the client lists again, as behind kube-apiserver's watch cache. 0: any revision.", valueName: "revisions"))
    var watchWindow = ServerLimits().watchWindow
    @Option(help: ArgumentHelp("Longest wait for a new connection's TLS handshake and first request header.", valueName: "duration"))
    var readHeaderTimeout = DurationArgument(ServerLimits().readHeaderTimeout)
    @Option(help: ArgumentHelp("Longest time from a request's header to the end of its body.", valueName: "duration"))
    var readTimeout = DurationArgument(ServerLimits().readTimeout)
    @Option(help: ArgumentHelp("Longest wait for the next request on an open connection.", valueName: "duration"))
    var idleTimeout = DurationArgument(ServerLimits().idleTimeout)
    @Option(help: ArgumentHelp("Connections open at once (lowered to what the file limit allows); beyond it new ones are closed at once.", valueName: "n"))
    var maxConnections = ServerLimits().maxConnections

    @Option(help: ArgumentHelp("How long a node may be silent before it is NotReady (kube-controller-manager's flag).", valueName: "duration"))
    var nodeMonitorGracePeriod = DurationArgument(.microseconds(NodeLifecycleController.defaultMonitorGracePeriod))
    @Option(help: ArgumentHelp("How long a core Event lives after its last write (kube-apiserver's flag); its expiry is journalled.", valueName: "duration"))
    var eventTtl = DurationArgument(.microseconds(EventTTLController.defaultTTL))
    @Option(help: ArgumentHelp("The scheduler's profiles, from a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) file (kube-scheduler's --config).", valueName: "file"))
    var schedulerConfig: String?
    @Option(help: "Seconds every new pod tolerates a not-ready node (kube-apiserver's DefaultTolerationSeconds admission).")
    var defaultNotReadyTolerationSeconds = Defaults.defaultTolerationSeconds
    @Option(help: "Seconds every new pod tolerates an unreachable node.")
    var defaultUnreachableTolerationSeconds = Defaults.defaultTolerationSeconds
    @Option(help: ArgumentHelp("Write kube-apiserver's audit log (audit.k8s.io/v1 JSON lines) here; needs --audit-policy.", valueName: "path"))
    var auditLog: String?
    @Option(help: ArgumentHelp("The audit policy (an audit.k8s.io/v1 Policy file, kube-apiserver's --audit-policy-file).", valueName: "file"))
    var auditPolicy: String?
    @Option(help: ArgumentHelp("Rotate the audit log when it would grow past this many megabytes (0: never).", valueName: "MB"))
    var auditLogMaxsize = 0
    @Option(help: ArgumentHelp("Rotated audit logs to keep (0: all).", valueName: "n"))
    var auditLogMaxbackup = 0
    @Flag(help: "Serve a journal whose hash chain does not verify (kj journal verify names the first bad revision); the acceptance is recorded in the journal, with you as its actor.")
    var allowBrokenChain = false

    func validate() throws {
        if nodes != nil, cluster != nil { throw ValidationError("give --nodes or --cluster, not both") }
        if let nodes, nodes < 1 { throw ValidationError("--nodes must be at least 1") }
        if maxRequestsInflight < 0 || maxMutatingRequestsInflight < 0 { throw ValidationError("the in-flight limits must be 0 (none) or more") }
        if minRequestTimeout < 1 { throw ValidationError("--min-request-timeout must be at least 1") }
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        if (auditLog == nil) != (auditPolicy == nil) {
            throw ValidationError("give --audit-log and --audit-policy together (like kube-apiserver, kj serve logs nothing without a policy)")
        }
        if auditLogMaxsize < 0 || auditLogMaxbackup < 0 { throw ValidationError("--audit-log-maxsize and --audit-log-maxbackup must be 0 or more") }
        if nodeMonitorGracePeriod.microseconds <= KubeletFleet.heartbeatSeconds * 1_000_000 {
            throw ValidationError("--node-monitor-grace-period must be longer than the simulated kubelets' heartbeat (\(KubeletFleet.heartbeatSeconds)s), or every node would be marked NotReady between two heartbeats")
        }
        for (name, d) in [("--read-header-timeout", readHeaderTimeout), ("--read-timeout", readTimeout), ("--idle-timeout", idleTimeout)]
        where d.duration <= .zero {
            throw ValidationError("\(name) must be longer than 0")
        }
    }

    var limits: ServerLimits {
        var limits = ServerLimits()
        limits.tlsMinimumVersion = tlsMinVersion.version
        limits.maxRequestsInflight = maxRequestsInflight
        limits.maxMutatingRequestsInflight = maxMutatingRequestsInflight
        limits.minRequestTimeout = minRequestTimeout
        limits.readHeaderTimeout = readHeaderTimeout.duration
        limits.readTimeout = readTimeout.duration
        limits.idleTimeout = idleTimeout.duration
        limits.maxConnections = maxConnections
        limits.watchWindow = watchWindow
        return limits
    }

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw CLIError("--listen wants host:port, e.g. 127.0.0.1:6443")
        }
        let host = String(listen[..<colon])
        let clusterNodes: [SimulatedNode]
        var profiles: [SchedulerProfile] = [.kubeDefault]
        if let cluster {
            guard let data = FileManager.default.contents(atPath: cluster) else { throw CLIError("cannot read \(cluster)") }
            let scenario = try Scenario(yaml: String(decoding: data, as: UTF8.self))
            clusterNodes = scenario.nodes
            profiles = scenario.schedulerProfiles
        } else {
            clusterNodes = ServeConfiguration.defaultNodes(nodes ?? 3)
        }
        if let schedulerConfig {
            guard let data = FileManager.default.contents(atPath: schedulerConfig) else { throw CLIError("cannot read \(schedulerConfig)") }
            do {
                profiles = try SchedulerConfiguration.profiles(yaml: String(decoding: data, as: UTF8.self)).map(SchedulerProfile.init)
            } catch {
                throw CLIError("\(schedulerConfig): \(error)")
            }
        }
        var logger = Logger(label: "kj.serve") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var config = ServeConfiguration(journalPath: location.path, host: host, port: port, nodes: clusterNodes, tokenFile: tokenFile, limits: limits,
                                        acceptBrokenChainAs: allowBrokenChain ? ProcessInfo.processInfo.environment["USER"] ?? NSUserName() : nil)
        config.maxJournalBytes = maxSize.bytes
        config.settings = Driver.Settings(nodeMonitorGracePeriod: nodeMonitorGracePeriod.microseconds, eventTTL: eventTtl.microseconds,
                                          schedulerProfiles: profiles)
        config.admission = Defaults.Admission(notReadyTolerationSeconds: defaultNotReadyTolerationSeconds,
                                              unreachableTolerationSeconds: defaultUnreachableTolerationSeconds)
        if let auditLog, let auditPolicy {
            guard let data = FileManager.default.contents(atPath: auditPolicy) else { throw CLIError("cannot read \(auditPolicy)") }
            do {
                let policy = try AuditPolicy(yaml: String(decoding: data, as: UTF8.self))
                config.audit = AuditBackend(writer: try AuditLogWriter(path: auditLog, maxMegabytes: auditLogMaxsize, maxBackups: auditLogMaxbackup), policy: policy)
            } catch {
                throw CLIError("\(auditPolicy): \(error)")
            }
        }
        let journalPath = location.path
        try await KubeServer.run(config, logger: logger) { url, kubeconfig in
            var text = "kj serve: listening on \(url) (journal \(journalPath), \(clusterNodes.count) node(s))\n"
            if let kubeconfig { text += "kubeconfig: \(kubeconfig)   (export KUBECONFIG=\(kubeconfig))\n" }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        print("kj serve: stopped")
    }
}

/// A size in bytes, written as a Kubernetes quantity (`64Gi`, `500M`, `1073741824`).
struct ByteSize: ExpressibleByArgument {
    var bytes: Int

    init(_ bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        guard let q = try? Quantity(parsing: argument), q.value >= 1 << 20 else { return nil }
        bytes = Int(q.value)
    }

    var defaultValueDescription: String { Quantity(Int64(bytes), format: .binarySI).description }
}

/// `--tls-min-version`, named as kube-apiserver names its values.
enum TLSMinimumVersion: String, ExpressibleByArgument, CaseIterable {
    case tls12 = "VersionTLS12"
    case tls13 = "VersionTLS13"

    var version: TLSVersion { self == .tls12 ? .tlsv12 : .tlsv13 }
}

/// A duration as Go writes one: numbers with units `ms`, `s`, `m` or `h`, e.g. `90s`, `1m30s`.
struct DurationArgument: ExpressibleByArgument {
    let duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        var total = Duration.zero
        var rest = Substring(argument)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard let n = Int64(digits), n <= 1_000_000_000 else { return nil }
            switch unit {
            case "ms": total += .milliseconds(n)
            case "s": total += .seconds(n)
            case "m": total += .seconds(n * 60)
            case "h": total += .seconds(n * 3600)
            default: return nil
            }
        }
        duration = total
    }

    /// In whole microseconds (what the components count in).
    var microseconds: Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    var defaultValueDescription: String {
        let (seconds, attoseconds) = duration.components
        return attoseconds == 0 ? "\(seconds)s" : "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000)ms"
    }
}

/// `kj kubeconfig`: the kubeconfig `kj serve` wrote for a journal.
struct Kubeconfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the kubeconfig kj serve wrote for the journal (its admin token and the address it last listened on).")

    @OptionGroup var location: JournalLocation
    @Flag(help: "Print only the file's path.") var path = false

    func run() throws {
        let file = ServeFiles(journal: location.path).kubeconfig
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError("no kubeconfig at \(file): start kj serve on this journal first")
        }
        print(path ? file : String(decoding: data, as: UTF8.self), terminator: path ? "\n" : "")
    }
}
