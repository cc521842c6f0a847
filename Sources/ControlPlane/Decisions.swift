import ClusterModel
import Journal

/// An event's `data`, typed: what its writer writes and what every reader (queries, resuming
/// components, replays) reads back. The field names are the journal's; encoding a value gives the
/// bytes the journal holds, and decoding tolerates what older journals wrote.
public protocol EventData: Codable, Sendable {
    /// The event type carrying this data.
    static var eventType: String { get }
}

/// The data of a component's decision (what `ComponentContext.decide` appends).
public protocol DecisionData: EventData {}

extension EventData {
    /// Reads the data of `event` as this type (nil when it is another type's, or unreadable).
    public static func from(_ event: Event) -> Self? {
        guard event.type == eventType, let json = try? JSONValue.parse(event.data) else { return nil }
        return try? ValueDecoder(strict: false).decode(Self.self, from: json)
    }

    /// The data as the journal holds it.
    public var json: JSONValue { (try? ValueEncoder().encode(self)) ?? .object([:]) }
}

/// A name from a fixed vocabulary that older or newer journals may extend: compared by its text,
/// read back whatever it says.
public protocol DecisionAction: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral where RawValue == String {
    init(rawValue: String)
}

extension DecisionAction {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
    public init(from decoder: any Decoder) throws { self.init(rawValue: try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// `KubeletDecided`: a simulated kubelet registering its node or moving a pod through its life.
public struct KubeletDecision: DecisionData, Equatable {
    public static let eventType = DecisionType.kubelet

    public struct Action: DecisionAction {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The kubelet registers its node (`re-register`: after a crash).
        public static let register: Action = "register", reRegister: Action = "re-register"
        /// The pod's containers start (pulling the image first if needed).
        public static let start: Action = "start"
        /// What the pod waited for (a ConfigMap, Secret or claim) appeared: its start goes on.
        public static let proceed: Action = "proceed"
        /// A container exited and restartPolicy restarts it after a CrashLoopBackOff delay.
        public static let backoff: Action = "backoff"
        public static let restart: Action = "restart"
        /// A container exited and is not restarted.
        public static let completed: Action = "completed"
        /// Graceful termination begins; `preStop` runs the hook first.
        public static let terminate: Action = "terminate", preStop: Action = "preStop"
        public static let sigterm: Action = "SIGTERM", sigkill: Action = "SIGKILL"
        /// The containers are down: the pod is removed.
        public static let remove: Action = "remove"
    }

    public var action: Action
    /// The kubelet's node (absent in registrations, which are about the Node itself).
    public var node: String?
    /// register, re-register: seconds between heartbeats.
    public var heartbeatSeconds: Int64?
    /// start: the containers and whether the image was on the node.
    public var containers: [String]?
    public var imagePresent: Bool?
    /// backoff, completed, remove: the exit code; backoff, restart: the restart count.
    public var exitCode: Int64?
    public var restartCount: Int64?
    /// backoff: the CrashLoopBackOff delay; backoff, completed: the pod's restartPolicy.
    public var backoffSeconds: Int64?
    public var restartPolicy: String?
    /// terminate: the grace period, its end (RFC 3339) and how long preStop may run.
    public var gracePeriodSeconds: Int64?
    public var deadline: String?
    public var preStopSeconds: Double?
    /// preStop: how long the hook runs.
    public var seconds: Double?
    /// SIGTERM: whether the container ignores it.
    public var ignored: Bool?
    /// SIGKILL: seconds since termination began.
    public var afterSeconds: Double?
    /// proceed: the object the pod waited for (`ConfigMap default/app-config`).
    public var waitedFor: String?

    public init(_ action: Action, node: String? = nil) {
        self.action = action
        self.node = node
    }
}

/// `NodeLifecycleDecided`: kube-controller-manager's node lifecycle and taint eviction controllers.
public struct NodeLifecycleDecision: DecisionData, Equatable {
    public static let eventType = DecisionType.nodeLifecycle

    public struct Action: DecisionAction {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// A Node appeared or went away (the `RegisteredNode` / `RemovingNode` Events follow).
        public static let register: Action = "register", forget: Action = "forget"
        /// The node's Ready condition and taints set from its heartbeats.
        public static let markReady: Action = "mark-ready", markUnreachable: Action = "mark-unreachable", markNotReady: Action = "mark-not-ready"
        /// A pod evicted from a node with a NoExecute taint it does not tolerate (any longer).
        public static let evict: Action = "evict"
    }

    public var action: Action
    public var node: String
    /// mark-*: the Ready status set, the node's taints after (`key:Effect`), and the silence measured.
    public var ready: String?
    public var taints: [String]?
    public var lastHeartbeat: String?
    public var silentSeconds: Int64?
    public var gracePeriodSeconds: Int64?
    /// evict: the taint (`key:Effect`), the pod's toleration of it (null: none) and why.
    public var taint: String?
    public var tolerationSeconds: Int64?
    public var reason: String?

    public init(_ action: Action, node: String) {
        self.action = action
        self.node = node
    }

    enum CodingKeys: String, CodingKey {
        case action, node, ready, taints, lastHeartbeat, silentSeconds, gracePeriodSeconds, taint, tolerationSeconds, reason
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(action, forKey: .action)
        try c.encode(node, forKey: .node)
        try c.encodeIfPresent(ready, forKey: .ready)
        try c.encodeIfPresent(taints, forKey: .taints)
        try c.encodeIfPresent(lastHeartbeat, forKey: .lastHeartbeat)
        try c.encodeIfPresent(silentSeconds, forKey: .silentSeconds)
        try c.encodeIfPresent(gracePeriodSeconds, forKey: .gracePeriodSeconds)
        try c.encodeIfPresent(taint, forKey: .taint)
        // An eviction says whether the pod tolerated the taint at all: null when it did not.
        if action == .evict, tolerationSeconds == nil { try c.encodeNil(forKey: .tolerationSeconds) } else { try c.encodeIfPresent(tolerationSeconds, forKey: .tolerationSeconds) }
        try c.encodeIfPresent(reason, forKey: .reason)
    }
}

/// `ControllerDecided`: a controller of kube-controller-manager (ReplicaSet, Deployment,
/// Endpoints, garbage collector, namespace) or kube-apiserver's Event expiry.
public struct ControllerDecision: DecisionData, Equatable {
    public static let eventType = DecisionType.controller

    /// What the controller does: one action (`create`, `delete`, `update-status`, `finalize`,
    /// `expire` …), or the Deployment controller's list of steps.
    public enum Actions: Codable, Sendable, Equatable {
        case one(String)
        case steps([String])

        public var all: [String] {
            switch self {
            case .one(let a): [a]
            case .steps(let s): s
            }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let list = try? c.decode([String].self) { self = .steps(list) } else { self = .one(try c.decode(String.self)) }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .one(let a): try c.encode(a)
            case .steps(let s): try c.encode(s)
            }
        }
    }

    /// What the controller saw of the object it reconciles.
    public struct Observed: Codable, Sendable, Equatable {
        public var replicas: Int64
        public var updated: Int64?
        public var available: Int64?
        public var ready: Int64?

        public init(replicas: Int64, updated: Int64? = nil, available: Int64? = nil, ready: Int64? = nil) {
            self.replicas = replicas
            self.updated = updated
            self.available = available
            self.ready = ready
        }
    }

    /// The controller's name (`replicaset`, `deployment`, `endpoints`, `garbage-collector`, `namespace`, `event-ttl`).
    public var controller: String
    public var action: Actions
    public var reason: String?
    /// replicaset: the pods created (`count`) or deleted (`pods`); event-ttl: the Events expired (`count`, `events`).
    public var count: Int64?
    public var pods: [String]?
    /// replicaset, deployment: the replicas wanted and what was observed.
    public var desired: Int64?
    public var observed: Observed?
    /// deployment: its strategy and its newest ReplicaSet.
    public var strategy: String?
    public var newReplicaSet: String?
    /// endpoints: the addresses (`pod ip`) ready and not, and the ready ones added and removed.
    public var ready: [String]?
    public var notReady: [String]?
    public var added: [String]?
    public var removed: [String]?
    /// garbage-collector: the owners that are gone (`kind/name (uid)`).
    public var owners: [String]?
    /// namespace: the objects left, by kind.
    public var objects: [String: Int64]?
    /// event-ttl: the TTL and the Events expired (`namespace/name`, at most 20).
    public var ttlSeconds: Int64?
    public var events: [String]?

    public init(controller: String, action: Actions) {
        self.controller = controller
        self.action = action
    }
}

/// `SchedulingDecided`: one scheduling attempt of kube-scheduler's framework, compact however many
/// nodes there are (`kj why --full` recomputes the full table from the observed state).
public struct SchedulingDecision: DecisionData, Equatable {
    public static let eventType = DecisionType.scheduling

    public struct Outcome: DecisionAction {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let bound: Outcome = "bound", unschedulable: Outcome = "unschedulable"
    }

    /// Nodes filtered out for one reason: by which plugin, how many, and the first few.
    public struct FilterGroup: Codable, Sendable, Equatable {
        public var reason: String
        public var plugin: String
        public var count: Int64
        public var nodes: [String]
        public init(reason: String, plugin: String, count: Int64, nodes: [String]) {
            self.reason = reason
            self.plugin = plugin
            self.count = count
            self.nodes = nodes
        }
    }

    /// One of the best candidates, with each score plugin's raw, normalised and weight.
    public struct Candidate: Codable, Sendable, Equatable {
        public struct PluginScore: Codable, Sendable, Equatable {
            public var plugin: String
            public var raw: Int64
            public var score: Int64
            public var weight: Int64
            public init(plugin: String, raw: Int64, score: Int64, weight: Int64) {
                self.plugin = plugin
                self.raw = raw
                self.score = score
                self.weight = weight
            }
        }

        public var node: String
        public var total: Int64
        /// Absent in the first journals, which kept only the totals.
        public var plugins: [PluginScore]
        public init(node: String, total: Int64, plugins: [PluginScore]) {
            self.node = node
            self.total = total
            self.plugins = plugins
        }

        enum CodingKeys: String, CodingKey { case node, total, plugins }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            node = try c.decode(String.self, forKey: .node)
            total = try c.decode(Int64.self, forKey: .total)
            plugins = try c.decodeIfPresent([PluginScore].self, forKey: .plugins) ?? []
        }
    }

    /// Pods counted per topology domain by a spreading or affinity rule.
    public struct Topology: Codable, Sendable, Equatable {
        public var plugin: String
        public var rule: String
        public var topologyKey: String
        public var selector: String
        public var domainCount: Int64
        public var domains: [String: Int64]
        public var maxSkew: Int64?
        public init(plugin: String, rule: String, topologyKey: String, selector: String, domainCount: Int64, domains: [String: Int64], maxSkew: Int64?) {
            self.plugin = plugin
            self.rule = rule
            self.topologyKey = topologyKey
            self.selector = selector
            self.domainCount = domainCount
            self.domains = domains
            self.maxSkew = maxSkew
        }
    }

    /// What preemption found when no node fit: the nominated node and its victims, or why not.
    public struct Preemption: Codable, Sendable, Equatable {
        public struct Victim: Codable, Sendable, Equatable {
            /// `namespace/name`.
            public var pod: String
            public var priority: Int64
            public init(pod: String, priority: Int64) {
                self.pod = pod
                self.priority = priority
            }
        }

        public var candidates: Int64
        public var node: String?
        public var message: String?
        public var victims: [Victim]
        public init(candidates: Int64, node: String?, message: String?, victims: [Victim]) {
            self.candidates = candidates
            self.node = node
            self.message = message
            self.victims = victims
        }
    }

    /// The tied best nodes: how many, the first few, and the one the seed picked.
    public struct TieBreak: Codable, Sendable, Equatable {
        public var count: Int64
        public var tied: [String]
        public var picked: String
        public init(count: Int64, tied: [String], picked: String) {
            self.count = count
            self.tied = tied
            self.picked = picked
        }
    }

    /// `namespace/name`.
    public var pod: String?
    public var outcome: Outcome
    /// bound: the node; unschedulable: kube-scheduler's message.
    public var node: String?
    public var message: String?
    public var nodes: Int64
    public var searched: Int64?
    public var searchStart: Int64?
    public var feasible: Int64
    public var filtered: [FilterGroup]
    public var scores: [Candidate]
    public var attempt: Int64?
    /// The profile that decided (absent in journals written before profiles).
    public var profile: String?
    public var profileDigest: String?
    public var topology: [Topology]?
    public var preemption: Preemption?
    public var tieBreak: TieBreak?

    public init(pod: String?, outcome: Outcome, nodes: Int64, feasible: Int64, filtered: [FilterGroup] = [], scores: [Candidate] = []) {
        self.pod = pod
        self.outcome = outcome
        self.nodes = nodes
        self.feasible = feasible
        self.filtered = filtered
        self.scores = scores
    }

    enum CodingKeys: String, CodingKey {
        case pod, outcome, node, message, nodes, searched, searchStart, feasible, filtered, scores, attempt, profile, profileDigest, topology, preemption, tieBreak
    }

    /// Older journals may lack the lists; a decision without them had none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pod = try c.decodeIfPresent(String.self, forKey: .pod)
        outcome = try c.decode(Outcome.self, forKey: .outcome)
        node = try c.decodeIfPresent(String.self, forKey: .node)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        nodes = try c.decodeIfPresent(Int64.self, forKey: .nodes) ?? 0
        searched = try c.decodeIfPresent(Int64.self, forKey: .searched)
        searchStart = try c.decodeIfPresent(Int64.self, forKey: .searchStart)
        feasible = try c.decodeIfPresent(Int64.self, forKey: .feasible) ?? 0
        filtered = try c.decodeIfPresent([FilterGroup].self, forKey: .filtered) ?? []
        scores = try c.decodeIfPresent([Candidate].self, forKey: .scores) ?? []
        attempt = try c.decodeIfPresent(Int64.self, forKey: .attempt)
        profile = try c.decodeIfPresent(String.self, forKey: .profile)
        profileDigest = try c.decodeIfPresent(String.self, forKey: .profileDigest)
        topology = try c.decodeIfPresent([Topology].self, forKey: .topology)
        preemption = try c.decodeIfPresent(Preemption.self, forKey: .preemption)
        tieBreak = try c.decodeIfPresent(TieBreak.self, forKey: .tieBreak)
    }
}

/// `ClusterInitialized`, revision 1 of every cluster journal: the seed of every generated id and
/// tie-break, and the journal format it was written in.
public struct ClusterInitialized: EventData, Equatable {
    public static let eventType = ClusterEventType.initialized

    /// A whole number up to 2^64-1, written as text (older journals: a number).
    public var seed: UInt64
    public var formatVersion: Int64?
    /// Where the journal's writes come from when KubeJournal's components did not make them:
    /// `audit.k8s.io` for a journal imported from a cluster's audit logs. Absent: this control plane.
    public var importedFrom: String?

    public init(seed: UInt64, formatVersion: Int64, importedFrom: String? = nil) {
        self.seed = seed
        self.formatVersion = formatVersion
        self.importedFrom = importedFrom
    }

    enum CodingKeys: String, CodingKey { case seed, formatVersion, importedFrom }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try? c.decode(String.self, forKey: .seed), let s = UInt64(text) {
            seed = s
        } else {
            seed = UInt64(bitPattern: try c.decode(Int64.self, forKey: .seed))
        }
        formatVersion = try c.decodeIfPresent(Int64.self, forKey: .formatVersion)
        importedFrom = try c.decodeIfPresent(String.self, forKey: .importedFrom)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(String(seed), forKey: .seed)
        try c.encodeIfPresent(formatVersion, forKey: .formatVersion)
        try c.encodeIfPresent(importedFrom, forKey: .importedFrom)
    }
}

/// `ControlPlaneStarted`: a `kj serve` started on the journal, with what a replay needs to run the
/// same components, and how the run before it ended.
public struct ControlPlaneStarted: EventData, Equatable {
    public static let eventType = ClusterEventType.controlPlaneStarted

    public struct Profile: Codable, Sendable, Equatable {
        public var name: String
        public var digest: String
        public init(name: String, digest: String) {
            self.name = name
            self.digest = digest
        }
    }

    /// How the previous run on the journal ended.
    public struct PreviousRun: DecisionAction {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let none: PreviousRun = "none", clean: PreviousRun = "clean", unclean: PreviousRun = "unclean"
    }

    public var server: String
    public var version: String
    /// The simulated nodes' names, and (journals since replay) their hardware in the shape of an `add-node` fault.
    public var nodes: [String]
    public var nodeSpecs: [JSONValue]?
    /// The scheduler's profiles; any but kube-scheduler's default is in a `SchedulerConfigured` event.
    public var schedulerProfiles: [Profile]?
    public var nodeMonitorGracePeriodMicroseconds: Int64?
    public var eventTTLMicroseconds: Int64?
    public var defaultNotReadyTolerationSeconds: Int64?
    public var defaultUnreachableTolerationSeconds: Int64?
    public var previousRun: PreviousRun
    /// The journal's head when the run started, and how long after its last event.
    public var resumedAt: Int64
    public var sinceLastEventSeconds: Int64?

    public init(server: String, version: String, nodes: [String], previousRun: PreviousRun, resumedAt: Int64) {
        self.server = server
        self.version = version
        self.nodes = nodes
        self.previousRun = previousRun
        self.resumedAt = resumedAt
    }
}
