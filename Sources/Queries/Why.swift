import ClusterModel
import ControlPlane
import Journal
import Scheduler

/// The answer to "why is this pod where it is — or nowhere?", from the journal.
public struct PodExplanation: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        /// Bound to a node and not removed (it may be terminating).
        case placed
        /// Not bound to any node yet.
        case pending
        /// Removed from the cluster.
        case gone
    }

    /// A point in the journal: revision and time.
    public struct Point: Sendable, Equatable, Codable {
        public var revision: UInt64
        public var time: String
    }

    /// Filter failures grouped by reason, as the decision recorded them.
    public struct FilterGroup: Sendable, Equatable, Codable {
        public var plugin: String
        public var reason: String
        public var count: Int
        /// At most a few of the nodes (the decision keeps a sample).
        public var nodes: [String]
    }

    public struct PluginScoreRow: Sendable, Equatable, Codable {
        public var plugin: String
        public var raw: Int64
        public var score: Int64
        public var weight: Int64
        public var weighted: Int64
    }

    public struct CandidateScore: Sendable, Equatable, Codable {
        public var node: String
        public var total: Int64
        public var plugins: [PluginScoreRow]
    }

    /// The scheduling decision that placed the pod, or its latest failed attempt.
    public struct Decision: Sendable, Equatable, Codable {
        public var revision: UInt64
        public var time: String
        public var observed: UInt64?
        public var attempt: Int64
        public var outcome: String
        public var node: String?
        public var nodes: Int64
        public var searched: Int64
        public var feasible: Int64
        public var filtered: [FilterGroup]
        /// The best candidates, best first, with every score plugin's raw, normalised and weighted score.
        public var candidates: [CandidateScore]
        /// How many nodes shared the best total, and a sample of them.
        public var tied: Int64?
        public var tiedNodes: [String]?
        public var message: String?
        /// The profile that decided and its configuration's digest (nil before profiles were recorded).
        public var profile: String?
        public var profileDigest: String?
        /// What DefaultPreemption decided, when no node fit.
        public var preemption: Preemption?
        /// The topology domains PodTopologySpread and InterPodAffinity counted pods in.
        public var topology: [TopologyRow]?
    }

    /// One spread constraint or pod (anti-)affinity term: matching pods per topology domain.
    public struct TopologyRow: Sendable, Equatable, Codable {
        public var plugin: String
        public var rule: String
        public var topologyKey: String
        public var selector: String
        public var maxSkew: Int64?
        public var domainCount: Int64
        /// `value: count`, busiest first (at most 16).
        public var domains: [String]
    }

    /// A preemption: the node nominated and the pods removed for it, or why preemption could not help.
    public struct Preemption: Sendable, Equatable, Codable {
        public var node: String?
        /// `namespace/name (priority N)`, most important first.
        public var victims: [String]
        public var candidates: Int64
        public var message: String?
    }

    public struct Pending: Sendable, Equatable, Codable {
        public var message: String
        /// What would make the pod schedulable, where that can be said.
        public var hints: [String]
    }

    public struct Ending: Sendable, Equatable, Codable {
        public var ranOn: String?
        public var deletionRequested: Point?
        public var deletionRequestedBy: String?
        /// Why the deletion was asked for, when a component asked (an eviction, a scale-down …).
        public var deletionReason: String?
        public var removed: Point
        public var removedBy: String
        public var finalStatus: String
    }

    /// Re-running the scheduler on the state the decision observed (`--full`).
    public struct Rerun: Sendable, Equatable, Codable {
        /// The re-run picked the recorded node (or agreed there was none).
        public var agrees: Bool
        public var recordedNode: String?
        public var rerunNode: String?
        /// Every node: its filter verdict and, when feasible, its scores.
        public var nodes: [NodeRow]
        /// Set for a pod of an imported journal: no decision of KubeJournal's was recorded, so this
        /// is KubeJournal's default profile on the state rebuilt from the log, not a re-run.
        public var recomputedFrom: String?
    }

    public struct NodeRow: Sendable, Equatable, Codable {
        public var node: String
        /// nil: feasible.
        public var filteredBy: String?
        public var reasons: [String]
        public var total: Int64?
        public var plugins: [PluginScoreRow]?
    }

    /// Why not a given node (`--not NODE`).
    public struct WhyNot: Sendable, Equatable, Codable {
        public var node: String
        public var answer: String
        public var details: [String]
    }

    public var pod: String
    public var uid: String
    public var status: Status
    /// The revision the explanation is for (the head, or `--at`).
    public var at: Point
    public var node: String?
    public var bound: Point?
    public var boundBy: String?
    /// The request that bound it, when the journal was imported (its audit ID).
    public var boundByRequest: String?
    public var decision: Decision?
    /// The chain of causes, oldest first, from the request that started it to the binding.
    public var causes: [HistoryEntry]
    /// Set when the chain of causes was longer than `causeLimit` steps and was cut.
    public var causesCut: Bool?
    public var pending: Pending?
    public var ending: Ending?
    public var rerun: Rerun?
    public var whyNot: WhyNot?
}

extension PodExplanation {
    /// Explains pod `namespace/name` as of revision `at` (default: the head). `full` re-runs the
    /// scheduler on the observed state; `notNode` explains why that node was not chosen.
    public static func explain(namespace: String, name: String, at: UInt64? = nil, full: Bool = false, notNode: String? = nil,
                               in view: JournalView) throws -> PodExplanation {
        let key = ObjectKey(kind: Pod.kind, namespace: namespace, name: name)
        let head = try at ?? view.head().revision
        let history = try ObjectHistory.load(key, until: head, in: view)
        let own = try history.entries.filter { $0.role == .object }.compactMap { try view.event(at: $0.revision) }
        guard let last = own.last else { throw QueryError.notFound(key, suggestions: []) }
        let headEvent = try view.event(at: head)
        var result = PodExplanation(
            pod: "\(namespace)/\(name)", uid: history.uid, status: .pending,
            at: Point(revision: head, time: (headEvent?.time ?? last.time).rfc3339), causes: [])

        let binding = own.last { $0.type == WriteType.bound.rawValue }
        let decisionEvent = binding.flatMap { b in b.cause.flatMap { c in own.first { $0.revision == c } } }
            ?? own.last { $0.type == DecisionType.scheduling }
        if let decisionEvent { result.decision = try Self.decision(decisionEvent) }
        if let binding {
            result.node = try binding.shownData()["spec"]?["nodeName"]?.stringValue
            result.bound = Point(revision: binding.revision, time: binding.time.rfc3339)
            result.boundBy = binding.actor.description
        }
        (result.causes, result.causesCut) = try Self.causes(of: own, binding: binding, decision: decisionEvent, in: view)
        let imported = try view.event(at: 1).flatMap(ClusterInitialized.from)?.importedFrom

        if last.type == WriteType.deleted.rawValue {
            result.status = .gone
            result.ending = try Self.ending(own, node: result.node, in: view)
        } else if binding != nil {
            result.status = .placed
        } else {
            result.status = .pending
            // An imported audit log holds only the requests it audited; no binding there is not a scheduler that never tried.
            let message = result.decision?.message
                ?? (imported.map { $0 == JournalSource.watch ? "the recorded watch saw no binding of it"
                                                      : "\(JournalSource.record($0)) holds no binding of it (the cluster's audit policy may leave pods/binding out)" }
                    ?? "the scheduler has not tried to place it yet")
            result.pending = Pending(message: message, hints: try Self.hints(for: key, decision: decisionEvent, at: head, in: view))
        }
        if let imported, decisionEvent == nil, let binding {
            // The cluster's own scheduler decided; what would ours, on the state the log rebuilds?
            result.boundByRequest = binding.request
            let replay = try SchedulerReplay(binding: binding, in: view)
            let sampled = replay.rerun(), every = replay.everyNode()
            result.rerun = Rerun(agrees: sampled.chosen == result.node, recordedNode: result.node, rerunNode: sampled.chosen,
                                 nodes: Self.rows(every), recomputedFrom: imported)
        }
        if (full || notNode != nil), let decisionEvent {
            let replay = try SchedulerReplay(decision: decisionEvent, in: view)
            let sampled = replay.rerun(), every = replay.everyNode()
            if full {
                result.rerun = Rerun(agrees: sampled.chosen == result.decision?.node, recordedNode: result.decision?.node,
                                     rerunNode: sampled.chosen, nodes: Self.rows(every))
            }
            if let notNode { result.whyNot = Self.whyNot(notNode, decision: result.decision, every: every, replay: replay) }
        } else if let notNode {
            result.whyNot = WhyNot(node: notNode, answer: "the scheduler has not decided about this pod yet", details: [])
        }
        return result
    }

    static func preemption(_ p: SchedulingDecision.Preemption) -> Preemption {
        Preemption(node: p.node, victims: p.victims.map { "\($0.pod) (priority \($0.priority))" }, candidates: p.candidates, message: p.message)
    }

    static func topologyRow(_ t: SchedulingDecision.Topology) -> TopologyRow {
        let ordered = t.domains.map { ($0.key, $0.value) }.sorted { a, b in a.1 != b.1 ? a.1 > b.1 : a.0 < b.0 }
        return TopologyRow(plugin: t.plugin, rule: t.rule, topologyKey: t.topologyKey, selector: t.selector, maxSkew: t.maxSkew,
                           domainCount: t.domainCount, domains: ordered.map { "\($0.0): \($0.1)" })
    }

    static func decision(_ e: Event) throws -> Decision {
        guard let d = SchedulingDecision.from(e) else { throw QueryError.journal("revision \(e.revision) is not a scheduling decision kj can read") }
        return Decision(
            revision: e.revision, time: e.time.rfc3339, observed: e.observed, attempt: d.attempt ?? 1,
            outcome: d.outcome.rawValue, node: d.node, nodes: d.nodes, searched: d.searched ?? 0, feasible: d.feasible,
            filtered: d.filtered.map { FilterGroup(plugin: $0.plugin, reason: $0.reason, count: Int($0.count), nodes: $0.nodes) },
            candidates: d.scores.map { s in
                CandidateScore(node: s.node, total: s.total, plugins: s.plugins.map {
                    PluginScoreRow(plugin: $0.plugin, raw: $0.raw, score: $0.score, weight: $0.weight, weighted: $0.score * $0.weight)
                })
            },
            tied: d.tieBreak?.count, tiedNodes: d.tieBreak?.tied, message: d.message, profile: d.profile, profileDigest: d.profileDigest,
            preemption: d.preemption.map(Self.preemption), topology: d.topology.map { $0.map(Self.topologyRow) })
    }

    /// From the pod's creation back to the request that started it (following each event's
    /// cause, then each decision's trigger), the same for the change that triggered the deciding
    /// attempt when that was not the creation (a node joining, say), then the decision and the
    /// binding; in revision order.
    /// The chain of causes behind `start` (default: the creation among `own`) and, for a pod, behind
    /// its scheduling decision's trigger; with the decision and the binding themselves.
    static func causes(of own: [Event], binding: Event?, decision: Event?, in view: JournalView, from start: Event? = nil) throws -> ([HistoryEntry], Bool?) {
        guard let created = start ?? own.first(where: { $0.type == WriteType.created.rawValue }) else { return ([], nil) }
        var chain: [Event] = []
        var seen: Set<UInt64> = []
        var cut = false
        func follow(_ start: Event) throws {
            var current: Event? = start
            var steps = 0
            while let e = current, seen.insert(e.revision).inserted {
                guard steps < causeLimit else {
                    cut = true
                    break
                }
                chain.append(e)
                steps += 1
                current = try (e.cause ?? e.trigger).flatMap { try view.event(at: $0) }
            }
        }
        try follow(created)
        if let trigger = try decision?.trigger.flatMap({ try view.event(at: $0) }) { try follow(trigger) }
        for e in [decision, binding].compactMap({ $0 }) where seen.insert(e.revision).inserted { chain.append(e) }
        chain.sort { $0.revision < $1.revision }
        let entries = try chain.map { e in
            HistoryEntry(revision: e.revision, time: e.time.rfc3339, type: e.type, actor: e.actor.description, object: e.object.key.description,
                         role: own.contains { $0.revision == e.revision } ? .object : .origin,
                         summary: EventSummary.line(for: e, data: try e.shownData()), cause: e.cause, trigger: e.trigger, changes: [])
        }
        return (entries, cut ? true : nil)
    }

    /// How many links of one chain of causes `why` follows back.
    static let causeLimit = 24

    static func ending(_ own: [Event], node: String?, in view: JournalView) throws -> Ending {
        let removed = own.last!
        let started = own.last { $0.type == WriteType.deletionStarted.rawValue }
        let requester = started ?? removed
        var reason: String?
        if let cause = requester.cause, let c = try view.event(at: cause), c.type.hasSuffix("Decided") {
            let summary = EventSummary.line(for: c, data: try c.shownData())
            // Controllers' summaries start with their name already ("replicaset: delete …").
            reason = summary.hasPrefix(c.actor.name + ":") ? "\(c.actor.kind)/\(summary)" : "\(c.actor): \(summary)"
        }
        let lastStatus = own.last { $0.type != WriteType.deleted.rawValue && WriteType(rawValue: $0.type) != nil }
        return Ending(
            ranOn: node, deletionRequested: started.map { Point(revision: $0.revision, time: $0.time.rfc3339) },
            deletionRequestedBy: requester.actor.description, deletionReason: reason,
            removed: Point(revision: removed.revision, time: removed.time.rfc3339), removedBy: removed.actor.description,
            finalStatus: try lastStatus.map { EventSummary.podStatus(try $0.shownData()) } ?? "")
    }

    /// Concrete hints for a pending pod, from the cluster at `revision`.
    static func hints(for key: ObjectKey, decision: Event?, at revision: UInt64, in view: JournalView) throws -> [String] {
        guard let decision else { return [] }
        let d = try decision.shownData()
        let reasons = (d["filtered"]?.arrayValue ?? []).compactMap { $0["reason"]?.stringValue }
        let (cluster, state) = try SchedulerReplay.cluster(in: view, at: revision)
        guard let stored = state.object(key), let pod = try stored.decode(in: view) as? Pod else { return [] }
        let request = PodRequest(pod)
        let nodes = cluster.nodes
        var hints: [String] = []
        // Only nodes that got as far as the resource check: a tainted node's free cpu is no help.
        let fitFailures = Set(SchedulingAlgorithm.run(pod: pod, cluster: cluster, seed: 0, findAll: true).verdicts
            .filter { $0.plugin == PluginName.nodeResourcesFit }.map(\.node))
        func most(_ free: (NodeInfo) -> Int128) -> (String, Int128)? {
            nodes.filter { fitFailures.contains($0.name) }.map { ($0.name, free($0)) }.max { ($0.1, $1.0) < ($1.1, $0.0) }
        }
        let elsewhere = "the most free on a node that passes the other filters is"
        if reasons.contains("Insufficient cpu"), let (node, free) = most({ $0.allocatable.milliCPU - $0.requested.milliCPU }) {
            hints.append("needs \(Quantity(milli: request.requested.milliCPU)) cpu; \(elsewhere) \(Quantity(milli: max(0, free))) (\(node))")
        }
        if reasons.contains("Insufficient memory"), let (node, free) = most({ $0.allocatable.memory - $0.requested.memory }) {
            hints.append("needs \(Quantity(units: request.requested.memory, format: .binarySI)) memory; \(elsewhere) \(Quantity(units: max(0, free), format: .binarySI)) (\(node))")
        }
        if reasons.contains("Too many pods") { hints.append("every node that fits is at its pod limit") }
        for r in reasons where r.hasPrefix("node(s) had untolerated taint") {
            let taint = r.dropFirst("node(s) had untolerated taint ".count)
            hints.append("add a toleration for \(taint), or remove that taint from the node")
        }
        if reasons.contains("node(s) didn't match Pod's node affinity/selector") {
            hints.append("no node has the labels the pod's nodeSelector/affinity requires: label a node, or relax the selector")
        }
        if reasons.contains("node(s) were unschedulable") { hints.append("uncordon a node (spec.unschedulable)") }
        if reasons.contains("node(s) didn't have free ports for the requested pod ports") { hints.append("the pod's hostPort is taken on every node that fits") }
        let affinityMatches = reasons.contains { $0.hasPrefix("node(s) didn't") && $0.contains("affinity rules") }
            ? PodAffinityMatches.find(for: pod, in: cluster) : []
        func named(_ rule: String) -> String {
            let found = affinityMatches.filter { $0.rule == rule }
            guard !found.isEmpty else { return "" }
            return " (" + found.prefix(5).map { "\($0.pod) on \($0.node)" }.joined(separator: ", ") + (found.count > 5 ? ", … \(found.count) in all" : "") + ")"
        }
        if reasons.contains(InterPodAffinityPluginReasons.antiAffinity) {
            hints.append("every topology domain already holds a pod the pod's required anti-affinity selects\(named("anti-affinity")): add a node (a new domain), or make the rule preferred")
        }
        if reasons.contains(InterPodAffinityPluginReasons.existingAntiAffinity) {
            hints.append("pods already running refuse this pod beside them: their required anti-affinity selects it\(named("existing anti-affinity"))")
        }
        if reasons.contains(InterPodAffinityPluginReasons.affinity) {
            hints.append("no topology domain holds a pod the pod's required affinity selects (and the pod does not select itself)")
        }
        if reasons.contains(PodTopologySpreadReasons.skew) {
            hints.append("every remaining domain would exceed the constraint's maxSkew: add capacity in the emptiest domain, or raise maxSkew")
        }
        if nodes.isEmpty { hints.append("the cluster has no nodes: add one") }
        return hints
    }

    static func rows(_ r: SchedulingResult) -> [NodeRow] {
        let scores = Dictionary(uniqueKeysWithValues: r.scores.map { ($0.node, $0) })
        return r.verdicts.map { v in
            let s = scores[v.node]
            return NodeRow(node: v.node, filteredBy: v.plugin, reasons: v.reasons, total: s?.total, plugins: s?.plugins.map(Self.row))
        }
    }

    static func row(_ p: PluginScore) -> PluginScoreRow {
        PluginScoreRow(plugin: p.plugin, raw: p.raw, score: p.score, weight: p.weight, weighted: p.weighted)
    }

    static func whyNot(_ node: String, decision: Decision?, every: SchedulingResult, replay: SchedulerReplay) -> WhyNot {
        guard let info = replay.nodes.first(where: { $0.name == node }) else {
            return WhyNot(node: node, answer: "\(node) was not in the cluster when the scheduler decided", details: [])
        }
        if decision?.node == node { return WhyNot(node: node, answer: "\(node) is where the scheduler put the pod", details: []) }
        let request = PodRequest(replay.pod)
        if let v = every.verdicts.first(where: { $0.node == node }), let plugin = v.plugin {
            var details: [String] = []
            if plugin == "NodeResourcesFit" {
                let freeCPU = info.allocatable.milliCPU - info.requested.milliCPU, freeMemory = info.allocatable.memory - info.requested.memory
                details.append("cpu: the pod requests \(Quantity(milli: request.requested.milliCPU)); \(node) has \(Quantity(milli: max(0, freeCPU))) free of \(Quantity(milli: info.allocatable.milliCPU))")
                details.append("memory: the pod requests \(Quantity(units: request.requested.memory, format: .binarySI)); \(node) has \(Quantity(units: max(0, freeMemory), format: .binarySI)) free of \(Quantity(units: info.allocatable.memory, format: .binarySI))")
                details.append("pods: \(info.requested.pods) of \(info.allocatable.pods)")
            }
            return WhyNot(node: node, answer: "filtered out by \(plugin): \(v.reasons.joined(separator: ", "))", details: details)
        }
        guard let mine = every.scores.first(where: { $0.node == node }) else {
            return WhyNot(node: node, answer: "\(node) was not considered", details: [])
        }
        guard let chosenName = decision?.node, let chosen = every.scores.first(where: { $0.node == chosenName }) else {
            return WhyNot(node: node, answer: "\(node) was feasible (score \(mine.total)) but the pod was not bound", details: [])
        }
        let sampled = decision.map { d in d.candidates.contains { $0.node == node } || d.searched >= d.nodes } ?? true
        var details = zip(mine.plugins, chosen.plugins).map { a, b in
            "\(a.plugin) (weight \(a.weight)): \(a.score) vs \(b.score) → \(a.weighted) vs \(b.weighted) (\(a.weighted - b.weighted >= 0 ? "+" : "")\(a.weighted - b.weighted))"
        }
        if !sampled { details.append("\(node) was outside the sample of nodes the scheduler scored (it stops after enough feasible nodes)") }
        let answer = mine.total == chosen.total
            ? "\(node) tied with \(chosenName) at \(mine.total); the seeded tie-break picked \(chosenName)"
            : "\(node) scored \(mine.total), \(chosen.total - mine.total) less than \(chosenName) (\(chosen.total))"
        return WhyNot(node: node, answer: answer, details: details)
    }
}
