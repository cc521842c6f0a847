import ClusterModel
import ControlPlane
import Crypto
import Foundation

/// One node's filter verdict for a pod.
public struct NodeVerdict: Sendable, Equatable {
    public var node: String
    /// The filter plugin that rejected the node (nil: the node fits).
    public var plugin: String?
    /// Its reasons, in kube-scheduler's words (`Insufficient cpu`).
    public var reasons: [String]
    /// Whether removing pods could make the node fit (kube-scheduler's `Unschedulable`, as opposed
    /// to `UnschedulableAndUnresolvable`): only such nodes are candidates for preemption.
    public var resolvable = true

    public var feasible: Bool { plugin == nil }
}

/// One score plugin's result for one node.
public struct PluginScore: Sendable, Equatable {
    public var plugin: String
    /// The plugin's score before normalisation.
    public var raw: Int64
    /// Normalised to 0–100.
    public var score: Int64
    public var weight: Int64
    public var weighted: Int64 { score * weight }
}

/// A feasible node's scores.
public struct NodeScore: Sendable, Equatable {
    public var node: String
    public var total: Int64
    public var plugins: [PluginScore]
}

/// Everything one scheduling attempt found: the verdict of every node it filtered, the scores of
/// the feasible ones, the choice and how ties were broken.
public struct SchedulingResult: Sendable, Equatable {
    public var verdicts: [NodeVerdict]
    /// Feasible nodes, best first (total descending, then name).
    public var scores: [NodeScore]
    public var chosen: String?
    /// The nodes that shared the best total, sorted; `chosen` was picked among them by the seed.
    public var tied: [String]
    /// How many nodes the cluster has; where the search began; how many nodes it filtered.
    public var totalNodes: Int
    public var searchStart: Int
    public var searched: Int
    /// The profile that decided, and its configuration's digest.
    public var profile: String
    public var profileDigest: String
    /// What DefaultPreemption decided when no node fit (nil: it did not run).
    public var preemption: PreemptionResult?
    /// The topology domains and pod counts PodTopologySpread and InterPodAffinity worked with.
    public var topology: [TopologyCount] = []

    /// kube-scheduler's FitError text: `0/3 nodes are available: 1 node(s) had untolerated taint
    /// {node.kubernetes.io/not-ready: }, 2 Insufficient cpu.`
    public var unschedulableMessage: String {
        var counts: [String: Int] = [:]
        for v in verdicts { for r in v.reasons { counts[r, default: 0] += 1 } }
        let parts = counts.map { "\($0.value) \($0.key)" }.sorted()
        let fit = "0/\(totalNodes) nodes are available" + (parts.isEmpty ? "." : ": " + parts.joined(separator: ", ") + ".")
        return fit + (preemption?.message.map { " " + $0 } ?? "")
    }

    /// The decision event's payload: compact however many nodes there are. Filter failures are
    /// counted by reason with at most `nodeLimit` node names each; scores are kept for the `top`
    /// best candidates. The full table can be recomputed from the observed state.
    public func decision(pod: Pod, attempt: Int, nodeLimit: Int = 8, top: Int = 5) -> SchedulingDecision {
        var byReason: [String: (plugin: String, nodes: [String], count: Int)] = [:]
        for v in verdicts where !v.feasible {
            for r in v.reasons {
                var e = byReason[r] ?? (v.plugin!, [], 0)
                e.count += 1
                if e.nodes.count < nodeLimit { e.nodes.append(v.node) }
                byReason[r] = e
            }
        }
        var d = SchedulingDecision(
            pod: "\(pod.metadata.namespace ?? "default")/\(pod.metadata.name ?? "")", outcome: chosen == nil ? .unschedulable : .bound,
            nodes: Int64(totalNodes), feasible: Int64(scores.count),
            filtered: byReason.keys.sorted().map { r in
                let e = byReason[r]!
                return .init(reason: r, plugin: e.plugin, count: Int64(e.count), nodes: e.nodes)
            },
            scores: scores.prefix(top).map { s in
                .init(node: s.node, total: s.total, plugins: s.plugins.map { .init(plugin: $0.plugin, raw: $0.raw, score: $0.score, weight: $0.weight) })
            })
        d.searched = Int64(searched)
        d.searchStart = Int64(searchStart)
        d.attempt = Int64(attempt)
        d.profile = profile
        d.profileDigest = profileDigest
        if !topology.isEmpty {
            d.topology = topology.map { t in
                .init(plugin: t.plugin, rule: t.rule, topologyKey: t.topologyKey, selector: t.selector, domainCount: Int64(t.domains.count),
                      domains: Dictionary(uniqueKeysWithValues: t.domains.prefix(nodeLimit * 2).map { ($0.value, $0.count) }), maxSkew: t.maxSkew)
            }
        }
        if let p = preemption {
            d.preemption = .init(candidates: Int64(p.candidates), node: p.node, message: p.message,
                                 victims: p.victims.map { .init(pod: "\($0.namespace)/\($0.name)", priority: Int64($0.priority)) })
        }
        if let chosen {
            d.node = chosen
            // The tied nodes can be thousands: keep the count and the first few; `why --full` recomputes all.
            d.tieBreak = .init(count: Int64(tied.count), tied: Array(tied.prefix(nodeLimit)), picked: chosen)
        } else {
            d.message = unschedulableMessage
        }
        return d
    }
}

/// A scheduling attempt as kube-scheduler's framework runs it: a pure function of a pod, the
/// cluster, a profile and a seed, so the same inputs always give the same result (which
/// `kj why --full` relies on to re-run a decision).
///
/// PreFilter runs every filter plugin's precomputation; then nodes are filtered starting at
/// `startIndex` (wrapping) until enough feasible ones are found — all of them in clusters under
/// 100 nodes, else `numFeasibleNodesToFind` — a node failing at its first failing filter. The
/// feasible nodes are scored by every score plugin (PreScore, Score, NormalizeScore), weighted
/// and summed; the best wins, ties broken by the seed and the pod's uid.
public enum SchedulingAlgorithm {
    /// Schedules `pod` with `profile` onto one of the cluster's nodes (sorted by name).
    public static func run(pod: Pod, cluster: ClusterSnapshot, profile: SchedulerProfile = .kubeDefault, seed: UInt64,
                           startIndex: Int = 0, findAll: Bool = false) -> SchedulingResult {
        let cycle = SchedulingCycle(pod: pod, cluster: cluster)
        let nodes = cluster.nodes, total = nodes.count
        var verdicts: [NodeVerdict] = []
        var result = SchedulingResult(verdicts: [], scores: [], chosen: nil, tied: [], totalNodes: total, searchStart: startIndex,
                                      searched: 0, profile: profile.schedulerName, profileDigest: profile.digest)
        // PreFilter: a rejection here holds for every node.
        for plugin in profile.filters {
            if let rejection = plugin.preFilter(cycle) {
                result.verdicts = nodes.map { NodeVerdict(node: $0.name, plugin: rejection.plugin, reasons: rejection.reasons, resolvable: rejection.resolvable) }
                return result
            }
        }
        // NodeAffinity's PreFilter: a required affinity naming nodes by metadata.name limits the search to them.
        var candidates = nodes
        if profile.filters.contains(where: { $0.name == PluginName.nodeAffinity }), let named = NodeAffinityPlugin.namedNodes(pod) {
            candidates = nodes.filter { named.contains($0.name) }
            verdicts = nodes.filter { !named.contains($0.name) }.map {
                NodeVerdict(node: $0.name, plugin: PluginName.nodeAffinity, reasons: ["node(s) didn't satisfy plugin(s) [\(PluginName.nodeAffinity)]"], resolvable: false)
            }
        }
        let searchable = candidates.count
        let wanted = findAll ? searchable : numFeasibleNodesToFind(searchable, percentage: profile.configuration.percentageOfNodesToScore)
        var feasible: [NodeInfo] = []
        feasible.reserveCapacity(min(wanted, searchable))
        var visited = 0
        let start = candidates.count == total ? startIndex : 0
        // Only pods nominated by preemption need the pod's own info (to leave room for them).
        let podInfo = cluster.nominated.isEmpty ? nil : PodInfo(pod)
        while visited < searchable, feasible.count < wanted {
            let n = candidates[(start + visited) % searchable]
            visited += 1
            let reserved = podInfo.map { cluster.withNominated(n, for: $0) } ?? n
            if let rejection = profile.filters.lazy.compactMap({ $0.filter(cycle, reserved) }).first {
                verdicts.append(NodeVerdict(node: n.name, plugin: rejection.plugin, reasons: rejection.reasons, resolvable: rejection.resolvable))
            } else {
                feasible.append(n)
            }
        }
        verdicts += feasible.map { NodeVerdict(node: $0.name, plugin: nil, reasons: []) }
        verdicts.sort { $0.node < $1.node }
        result.verdicts = verdicts
        result.searched = visited
        guard !feasible.isEmpty else {
            result.topology = TopologyCount.of(cycle)
            if profile.preemption, total > 0 {
                result.preemption = DefaultPreemption.run(pod: pod, cluster: cluster, profile: profile, verdicts: verdicts, seed: seed)
            }
            return result
        }

        // PreScore, Score and NormalizeScore per plugin, then the weighted sum.
        var perPlugin: [(name: String, raw: [Int64], normalized: [Int64], weight: Int64)] = []
        for (plugin, weight) in profile.scorers {
            plugin.preScore(cycle, feasible: feasible)
            let raw = feasible.map { plugin.score(cycle, $0) }
            perPlugin.append((plugin.name, raw, plugin.normalize(cycle, raw, feasible: feasible), weight))
        }
        var scores: [NodeScore] = feasible.indices.map { i in
            let plugins = perPlugin.map { PluginScore(plugin: $0.name, raw: $0.raw[i], score: $0.normalized[i], weight: $0.weight) }
            return NodeScore(node: feasible[i].name, total: plugins.reduce(0) { $0 + $1.weighted }, plugins: plugins)
        }
        scores.sort { ($0.total, $1.node) > ($1.total, $0.node) }
        let best = scores[0].total
        let tied = scores.prefix { $0.total == best }.map(\.node).sorted()
        result.scores = scores
        result.tied = tied
        result.topology = TopologyCount.of(cycle)
        result.chosen = tied[Int(tieBreakIndex(seed: seed, uid: pod.metadata.uid ?? "", count: tied.count))]
        return result
    }

    /// The first filter that rejects `pod` on `node` in `cluster` (PreFilter run afresh), or nil.
    static func rejection(of pod: Pod, on node: NodeInfo, in cluster: ClusterSnapshot, profile: SchedulerProfile) -> Rejection? {
        let cycle = SchedulingCycle(pod: pod, cluster: cluster)
        for plugin in profile.filters { if let r = plugin.preFilter(cycle) { return r } }
        return profile.filters.lazy.compactMap { $0.filter(cycle, node) }.first
    }

    /// `run` over `nodes` with nothing else known of the cluster (no namespaces or workloads).
    public static func run(pod: Pod, nodes: [NodeInfo], profile: SchedulerProfile = .kubeDefault, seed: UInt64,
                           startIndex: Int = 0, findAll: Bool = false) -> SchedulingResult {
        run(pod: pod, cluster: ClusterSnapshot(nodes: nodes), profile: profile, seed: seed, startIndex: startIndex, findAll: findAll)
    }

    /// kube-scheduler's sample: every node below 100; else `percentage` of them, or when not set
    /// the adaptive (50 − nodes/125)% (at least 5%); and at least 100.
    public static func numFeasibleNodesToFind(_ total: Int, percentage: Int64? = nil) -> Int {
        guard total >= 100 else { return total }
        let share = percentage.flatMap { $0 > 0 ? Int(min($0, 100)) : nil } ?? max(5, 50 - total / 125)
        return max(100, total * share / 100)
    }

    /// Which of `count` tied nodes to pick: a function of the cluster seed and the pod's uid only,
    /// so a re-run picks the same node.
    static func tieBreakIndex(seed: UInt64, uid: String, count: Int) -> UInt64 {
        guard count > 1 else { return 0 }
        var input = withUnsafeBytes(of: seed.bigEndian) { Array($0) }
        input += Array(uid.utf8)
        let digest = SHA256.hash(data: input)
        let v = digest.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        return v % UInt64(count)
    }
}

/// Pods counted per topology domain for one rule of an attempt: a spread constraint (pods its
/// selector matches, per domain) or a required pod (anti-)affinity term (matching pods per domain).
/// What `kj why` shows beside the scores.
public struct TopologyCount: Sendable, Equatable {
    public var plugin: String
    /// `DoNotSchedule` / `ScheduleAnyway` (spread), `affinity` / `anti-affinity` / `existing anti-affinity`.
    public var rule: String
    public var topologyKey: String
    public var selector: String
    public var maxSkew: Int64?
    /// Domains with at least one counted pod, by value, busiest first.
    public var domains: [(value: String, count: Int64)]

    public static func == (a: TopologyCount, b: TopologyCount) -> Bool {
        (a.plugin, a.rule, a.topologyKey, a.selector, a.maxSkew) == (b.plugin, b.rule, b.topologyKey, b.selector, b.maxSkew)
            && a.domains.elementsEqual(b.domains) { $0.value == $1.value && $0.count == $1.count }
    }

    static func sorted(_ counts: [(String, Int64)]) -> [(value: String, count: Int64)] {
        counts.filter { $0.1 > 0 }.sorted { ($1.1, $0.0) < ($0.1, $1.0) }.map { (value: $0.0, count: $0.1) }
    }

    /// What the attempt's cycle counted.
    static func of(_ cycle: SchedulingCycle) -> [TopologyCount] {
        var out: [TopologyCount] = []
        if let s = cycle.spread {
            for (i, c) in s.constraints.enumerated() {
                out.append(TopologyCount(plugin: PluginName.podTopologySpread, rule: "DoNotSchedule", topologyKey: c.topologyKey,
                                         selector: c.selector?.description ?? "", maxSkew: c.maxSkew,
                                         domains: sorted(zip(s.indexes[i].values, s.counts[i]).map { ($0, $1) })))
            }
        }
        if let s = cycle.spreadScore {
            for (i, c) in s.constraints.enumerated() where c.topologyKey != TopologyKey.hostname {
                out.append(TopologyCount(plugin: PluginName.podTopologySpread, rule: "ScheduleAnyway", topologyKey: c.topologyKey,
                                         selector: c.selector?.description ?? "", maxSkew: c.maxSkew,
                                         domains: sorted(zip(s.indexes[i].values, s.counts[i]).map { ($0, $1) })))
            }
        }
        if let a = cycle.podAffinity {
            func counts(_ key: String, _ table: [TopologyPair: Int64]) -> [(value: String, count: Int64)] {
                sorted(table.filter { $0.key.key == key }.map { ($0.key.value, $0.value) })
            }
            for t in a.affinity {
                out.append(TopologyCount(plugin: PluginName.interPodAffinity, rule: "affinity", topologyKey: t.topologyKey,
                                         selector: t.selector?.description ?? "", maxSkew: nil, domains: counts(t.topologyKey, a.affinityCounts)))
            }
            for t in a.antiAffinity {
                out.append(TopologyCount(plugin: PluginName.interPodAffinity, rule: "anti-affinity", topologyKey: t.topologyKey,
                                         selector: t.selector?.description ?? "", maxSkew: nil, domains: counts(t.topologyKey, a.antiAffinityCounts)))
            }
            for key in Set(a.existingAntiAffinityCounts.keys.map(\.key)).sorted() {
                out.append(TopologyCount(plugin: PluginName.interPodAffinity, rule: "existing anti-affinity", topologyKey: key,
                                         selector: "", maxSkew: nil, domains: counts(key, a.existingAntiAffinityCounts)))
            }
        }
        return out
    }
}
