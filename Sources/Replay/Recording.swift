import ClusterModel
import Controllers
import ControlPlane
import Foundation
import Journal
import NodeAgent
import Scheduler
import Simulation
import Synchronization

/// A journal being replayed: its events, read a window at a time, and what the journal says about
/// how each run of the control plane that wrote it was set up.
public final class Recording: Sendable {
    public let journal: Journal
    /// The newest event when the recording was opened (a server may still be appending).
    public let head: Head
    /// The last revision of the bootstrap: `ClusterInitialized` and the namespaces made with it.
    public let bootstrapped: UInt64
    private let window = Mutex<(start: UInt64, events: [Event])>((1, []))
    static let windowSize: UInt64 = 4096

    public init(journal: Journal) throws {
        self.journal = journal
        let head = try journal.head()
        self.head = head
        var last: UInt64 = 0
        try journal.read { view in
            try view.forEachHeader(in: 1...max(head.revision, 1)) { h in
                guard h.revision == 1 ? h.type == ClusterEventType.initialized : h.actor == .bootstrap else { return false }
                last = h.revision
                return true
            }
        }
        guard head.revision >= 3, last >= 1 else {
            throw ReplayError("\(journal.path) is not a cluster journal: revision 1 is not ClusterInitialized")
        }
        bootstrapped = last
    }

    /// The event at `revision`, nil past the head.
    public func event(at revision: UInt64) throws -> Event? {
        guard revision >= 1, revision <= head.revision else { return nil }
        return try window.withLock { w throws -> Event in
            if revision < w.start || revision >= w.start + UInt64(w.events.count) {
                let end = min(head.revision, revision + Self.windowSize - 1)
                w.events = try journal.read { try $0.events(in: revision...end) }
                w.start = revision
            }
            return w.events[Int(revision - w.start)]
        }
    }

    /// The event at `revision`, which must exist.
    func required(_ revision: UInt64) throws -> Event {
        guard let e = try event(at: revision) else { throw ReplayError("the recording has no revision \(revision)") }
        return e
    }
}

/// Who wrote an event: one of the control plane's components, or nobody in it (an input: a user's
/// write, a fault, a control plane start).
public enum EventSource: Equatable, Sendable {
    case input
    /// The component's `name` (`scheduler`, `replicaset`, `node-lifecycle`, `kubelets` …).
    case component(String)

    /// The source of an event by `actor`: `scheduler/*` is the scheduler, `controller/NAME` the
    /// controller NAME, `kubelet/*` the kubelets; anyone else is outside the control plane.
    public init(_ actor: Actor) {
        switch actor.kind {
        case "scheduler": self = .component("scheduler")
        case "controller": self = .component(actor.name)
        case "kubelet": self = .component("kubelets")
        default: self = .input
        }
    }
}

extension Event {
    /// Whether the event is a component's decision (rather than a write it caused).
    var isDecision: Bool { draft.type.hasSuffix("Decided") || draft.type == SchedulerConfigurations.configured }
}

/// How one run of the control plane was set up: the simulated nodes, the components' settings and
/// when it started.
public struct RunConfiguration: Sendable {
    public var nodes: [SimulatedNode]
    public var settings: Driver.Settings
    /// kube-apiserver's DefaultTolerationSeconds settings.
    public var admission: Defaults.Admission
    public var start: Timestamp

    public init(nodes: [SimulatedNode], settings: Driver.Settings, admission: Defaults.Admission = Defaults.Admission(), start: Timestamp) {
        self.nodes = nodes
        self.settings = settings
        self.admission = admission
        self.start = start
    }
}

extension Recording {
    /// The set-up of the run that `started` began (a `ControlPlaneStarted` event), or of the run
    /// that began with the journal (a simulation's), read from the journal: the nodes' hardware and
    /// settings `ControlPlaneStarted` lists; for older journals and simulations, the nodes their
    /// kubelets registered and the profiles `SchedulerConfigured` events hold.
    public func configuration(of started: Event?) throws -> RunConfiguration {
        let data = started.flatMap(ControlPlaneStarted.from)
        let start = try started?.time ?? required(1).time
        var settings = Driver.Settings()
        if let grace = data?.nodeMonitorGracePeriodMicroseconds { settings.nodeMonitorGracePeriod = grace }
        if let ttl = data?.eventTTLMicroseconds { settings.eventTTL = ttl }
        settings.schedulerProfiles = try journal.read { view in
            if let listed = data?.schedulerProfiles {
                return try listed.map { try SchedulerConfigurations.profile(named: $0.name, digest: $0.digest, before: .max, in: view) }
            }
            return try Self.configuredProfiles(in: view)
        }
        let nodes: [SimulatedNode]
        if let specs = data?.nodeSpecs {
            nodes = specs.enumerated().map { SimulatedNode(Fault.AddedNode(json: $0.element), defaultIndex: $0.offset + 1) }
        } else {
            let names = try data?.nodes ?? registeredAtStart()
            nodes = try journal.read { view in try names.enumerated().map { try Self.registered($0.element, index: $0.offset + 1, in: view) } }
        }
        var admission = Defaults.Admission()
        if let s = data?.defaultNotReadyTolerationSeconds { admission.notReadyTolerationSeconds = s }
        if let s = data?.defaultUnreachableTolerationSeconds { admission.unreachableTolerationSeconds = s }
        return RunConfiguration(nodes: nodes, settings: settings, admission: admission, start: start)
    }

    /// Every profile a `SchedulerConfigured` event holds (the latest of each name), with
    /// kube-scheduler's default profile unless one of them took its name.
    static func configuredProfiles(in view: JournalView) throws -> [SchedulerProfile] {
        var digests: [String: String] = [:]
        try view.forEachHeader(in: 1...UInt64.max) { h in
            if h.type == SchedulerConfigurations.configured, let digest = try JSONValue.parse(Array(h.data))["digest"]?.stringValue {
                digests[h.object.name] = digest
            }
            return true
        }
        var profiles = try digests.keys.sorted().map { try SchedulerConfigurations.profile(named: $0, digest: digests[$0], before: .max, in: view) }
        if digests[SchedulerProfile.defaultName] == nil { profiles.insert(.kubeDefault, at: 0) }
        return profiles
    }

    /// The nodes whose kubelets registered them without being added by a fault: a simulation's
    /// nodes, in the order they registered.
    func registeredAtStart() throws -> [String] {
        var registered: [String] = [], added = Set<String>()
        try journal.read { view in
            try view.forEachHeader(in: 1...head.revision) { h in
                if h.type == DecisionType.kubelet, h.object.kind == Node.kind, !registered.contains(h.object.name),
                   (try? ValueDecoder(strict: false).decode(KubeletDecision.self, from: try JSONValue.parse(Array(h.data))))?.action == .register {
                    registered.append(h.object.name)
                } else if h.type == DecisionType.fault, let d = try? JSONValue.parse(Array(h.data)), d["fault"]?.stringValue == "add-node" {
                    added.insert(d["node"]?.stringValue ?? h.object.name)
                }
                return true
            }
        }
        return registered.filter { !added.contains($0) }
    }

    /// The hardware of node `name` as its kubelet first registered it (kj's defaults if it never did).
    static func registered(_ name: String, index: Int, in view: JournalView) throws -> SimulatedNode {
        for r in try view.history(of: ObjectKey(kind: Node.kind, name: name)) {
            guard let e = try view.event(at: r), e.type == WriteType.created.rawValue, e.actor == Actor(kind: "kubelet", name: name) else { continue }
            return SimulatedNode(registered: try ValueDecoder(strict: false).decode(Node.self, from: try JSONValue.parse(e.data)))
        }
        return SimulatedNode(name: name, capacity: ["cpu": try Quantity(parsing: "2"), "memory": try Quantity(parsing: "4Gi"), "pods": try Quantity(parsing: "110")], index: index)
    }
}

/// A recording that cannot be replayed, or a replay that cannot go on.
public struct ReplayError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}
