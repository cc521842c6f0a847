import ClusterModel
import Foundation

/// Well-known node labels.
public enum TopologyKey {
    public static let hostname = "kubernetes.io/hostname"
    public static let zone = "topology.kubernetes.io/zone"
}

/// One spread constraint as the plugin uses it: the pod's own, or a default.
struct SpreadConstraint: Sendable {
    var maxSkew: Int64
    var topologyKey: String
    var selector: LabelSelectorExpression?
    var minDomains: Int64
    var honorNodeAffinity: Bool
    var honorNodeTaints: Bool

    /// Whether `labels` match the constraint's selector (a missing selector matches nothing).
    func selects(_ labels: [String: String]) -> Bool { selector?.matches(labels) ?? false }

    /// Whether `node` counts for the constraint under its node inclusion policies.
    func includes(_ node: NodeInfo, _ cycle: SchedulingCycle) -> Bool {
        if honorNodeAffinity, !NodeAffinityPlugin.matchesRequired(cycle.pod, node) { return false }
        if honorNodeTaints, TaintTolerationPlugin().filter(cycle, node) != nil { return false }
        return true
    }

    /// How many pods on `node` in the pod's namespace, not terminating, the selector matches.
    func matchingPods(on node: NodeInfo, namespace: String) -> Int64 {
        guard let selector, !node.pods.isEmpty else { return 0 }
        // A required label no pod here carries: none match (the common case on most nodes).
        for r in selector.requirements where (r.op == .equals || (r.op == .in && r.values.count == 1)) {
            if node.pods(in: namespace, labelled: r.key, r.values[0]) == 0 { return 0 }
        }
        var count: Int64 = 0
        for p in node.pods.values where p.namespace == namespace && !p.terminating && selects(p.labels) { count += 1 }
        return count
    }
}

/// What PreFilter counted for the DoNotSchedule constraints.
struct TopologySpreadState {
    var constraints: [SpreadConstraint]
    var indexes: [TopologyIndex]
    /// Per constraint: matching pods per domain (by number).
    var counts: [[Int64]]
    /// Per constraint: the smallest count over its domains (0 while there are fewer than minDomains).
    var minimum: [Int64]
}

/// What PreScore counted for the ScheduleAnyway constraints.
struct TopologySpreadScoreState {
    var constraints: [SpreadConstraint]
    var indexes: [TopologyIndex]
    /// Per constraint: matching pods per domain of the feasible nodes (by number; others 0).
    var counts: [[Int64]]
    var weights: [Double]
    /// Feasible nodes without every topology key (scored 0).
    var ignored: Set<String>
}

/// PodTopologySpread: `topologySpreadConstraints` (DoNotSchedule ones filter, ScheduleAnyway ones
/// score), and for a pod without constraints that a Service or ReplicaSet selects, the default
/// constraints (kube-scheduler's system defaults: hostname with maxSkew 3, zone with maxSkew 5,
/// both ScheduleAnyway).
struct PodTopologySpreadPlugin: FilterPlugin, ScorePlugin {
    let name = PluginName.podTopologySpread
    /// The constraints for pods without their own; `systemDefaulted` when they are the system's.
    var defaultConstraints: [TopologySpreadConstraint]
    var systemDefaulted: Bool

    static let systemDefaults = [
        TopologySpreadConstraint(maxSkew: 3, topologyKey: TopologyKey.hostname, whenUnsatisfiable: "ScheduleAnyway", labelSelector: nil),
        TopologySpreadConstraint(maxSkew: 5, topologyKey: TopologyKey.zone, whenUnsatisfiable: "ScheduleAnyway", labelSelector: nil),
    ]
    static let constraintsNotMatched = PodTopologySpreadReasons.skew
    static let missingLabel = PodTopologySpreadReasons.missingLabel

    /// The pod's constraints with `whenUnsatisfiable` equal to `action`, or the defaults.
    func constraints(_ cycle: SchedulingCycle, _ action: String) -> [SpreadConstraint] {
        let pod = cycle.pod, labels = pod.metadata.labels ?? [:]
        if let own = pod.spec.topologySpreadConstraints, !own.isEmpty {
            return own.filter { $0.whenUnsatisfiable == action }.map { c in
                var selector = c.labelSelector.map(LabelSelectorExpression.init)
                // matchLabelKeys: the pod's values for those keys join the selector.
                for key in c.matchLabelKeys ?? [] { if let v = labels[key] { selector?.requirements.append(LabelRequirement(key: key, op: .in, values: [v])) } }
                return SpreadConstraint(maxSkew: Int64(c.maxSkew), topologyKey: c.topologyKey, selector: selector, minDomains: Int64(c.minDomains ?? 1),
                                        honorNodeAffinity: (c.nodeAffinityPolicy ?? "Honor") == "Honor", honorNodeTaints: c.nodeTaintsPolicy == "Honor")
            }
        }
        let defaults = defaultConstraints.filter { $0.whenUnsatisfiable == action }
        guard !defaults.isEmpty else { return [] }
        let selector = cycle.defaultSelector
        guard !selector.isEmpty else { return [] }
        return defaults.map { SpreadConstraint(maxSkew: Int64($0.maxSkew), topologyKey: $0.topologyKey, selector: selector, minDomains: 1, honorNodeAffinity: true, honorNodeTaints: false) }
    }

    /// The positions of the nodes that may hold pods the constraints' selectors match, from the
    /// scheduler's label index (nil: no index, or a selector without a single required label).
    static func holders(_ constraints: [SpreadConstraint], _ namespace: String, _ cycle: SchedulingCycle) -> [Int]? {
        guard let index = cycle.cluster.labels, constraints.allSatisfy({ $0.selector != nil }) else { return nil }
        let holders = constraints.compactMap { index.candidates($0.selector!, namespace: namespace) }
        guard holders.count == constraints.count else { return nil }
        let names = holders.dropFirst().reduce(holders[0]) { $0.union($1) }
        let position = cycle.cluster.topology.position(cycle.cluster.nodes)
        return names.compactMap { position[$0] }.sorted()
    }

    /// `node`'s domain in `index` (nil: it lacks the key): read at its position when the snapshot
    /// numbered it, else looked up by its label.
    static func domain(_ node: NodeInfo, _ index: TopologyIndex, _ key: String, _ nodes: [NodeInfo]) -> Int? {
        let p = node.position
        if p >= 0, p < nodes.count, nodes[p] === node {
            let d = index.domainOfNode[p]
            return d >= 0 ? Int(d) : nil
        }
        return node.labels[key].flatMap { index.domainOfValue[$0] }.map(Int.init)
    }

    /// Whether node number `n` has every constraint's topology key.
    static func hasAllKeys(_ n: Int, _ indexes: [TopologyIndex]) -> Bool {
        indexes.allSatisfy { $0.domainOfNode[n] >= 0 }
    }

    func preFilter(_ cycle: SchedulingCycle) -> Rejection? {
        let constraints = constraints(cycle, "DoNotSchedule")
        guard !constraints.isEmpty else { return nil }
        let namespace = cycle.pod.metadata.namespace ?? "default"
        let nodes = cycle.cluster.nodes
        let indexes = constraints.map { cycle.cluster.topology.index($0.topologyKey, nodes) }
        var counts = indexes.map { Array(repeating: Int64(0), count: $0.values.count) }
        var present = indexes.map { Array(repeating: false, count: $0.values.count) }
        if let holders = Self.holders(constraints, namespace, cycle), !constraints.contains(where: \.honorNodeTaints),
           cycle.pod.spec.nodeSelector == nil, cycle.pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution == nil {
            // Every node with the keys counts (nothing in the pod's node selection or taints policy
            // excludes one): domains from the numbered index, pods only where the index has holders.
            for n in nodes.indices where Self.hasAllKeys(n, indexes) {
                for i in constraints.indices { present[i][Int(indexes[i].domainOfNode[n])] = true }
            }
            for n in holders where Self.hasAllKeys(n, indexes) {
                for i in constraints.indices {
                    counts[i][Int(indexes[i].domainOfNode[n])] += constraints[i].matchingPods(on: nodes[n], namespace: namespace)
                }
            }
        } else {
            for (n, node) in nodes.enumerated() where Self.hasAllKeys(n, indexes) {
                for i in constraints.indices where constraints[i].includes(node, cycle) {
                    let d = Int(indexes[i].domainOfNode[n])
                    present[i][d] = true
                    counts[i][d] += constraints[i].matchingPods(on: node, namespace: namespace)
                }
            }
        }
        let minimum = constraints.indices.map { i -> Int64 in
            let domains = counts[i].indices.filter { present[i][$0] }
            return Int64(domains.count) < constraints[i].minDomains ? 0 : domains.map { counts[i][$0] }.min() ?? 0
        }
        cycle.spread = TopologySpreadState(constraints: constraints, indexes: indexes, counts: counts, minimum: minimum)
        return nil
    }

    func filter(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Rejection? {
        guard let state = cycle.spread else { return nil }
        let labels = cycle.pod.metadata.labels ?? [:]
        let nodes = cycle.cluster.nodes
        for (i, c) in state.constraints.enumerated() {
            guard node.labels[c.topologyKey] != nil else { return Rejection(name, [Self.missingLabel], resolvable: false) }
            let selfMatch: Int64 = c.selects(labels) ? 1 : 0
            let count = Self.domain(node, state.indexes[i], c.topologyKey, nodes).map { state.counts[i][$0] } ?? 0
            if count + selfMatch - state.minimum[i] > c.maxSkew { return Rejection(name, [Self.constraintsNotMatched]) }
        }
        return nil
    }

    func preScore(_ cycle: SchedulingCycle, feasible: [NodeInfo]) {
        let constraints = constraints(cycle, "ScheduleAnyway")
        guard !constraints.isEmpty else { return }
        let nodes = cycle.cluster.nodes
        let indexes = constraints.map { cycle.cluster.topology.index($0.topologyKey, nodes) }
        let requireAllTopologies = !(cycle.pod.spec.topologySpreadConstraints ?? []).isEmpty || !systemDefaulted
        var ignored = Set<String>()
        var present = indexes.map { Array(repeating: false, count: $0.values.count) }
        for node in feasible {
            let domains = indexes.indices.map { i in Self.domain(node, indexes[i], constraints[i].topologyKey, nodes) }
            if requireAllTopologies, domains.contains(nil) { ignored.insert(node.name); continue }
            for (i, d) in domains.enumerated() { if let d { present[i][d] = true } }
        }
        let sizes = constraints.indices.map { i in
            constraints[i].topologyKey == TopologyKey.hostname ? feasible.count - ignored.count : present[i].filter { $0 }.count
        }
        let namespace = cycle.pod.metadata.namespace ?? "default"
        var counts = indexes.map { Array(repeating: Int64(0), count: $0.values.count) }
        // Nodes without a pod the selectors can match add nothing: with the scheduler's label index
        // only the nodes holding the selectors' rarest label are visited.
        let visit = Self.holders(constraints, namespace, cycle) ?? Array(nodes.indices)
        for n in visit where !requireAllTopologies || Self.hasAllKeys(n, indexes) {
            let node = nodes[n]
            for i in constraints.indices where constraints[i].topologyKey != TopologyKey.hostname {
                let d = Int(indexes[i].domainOfNode[n])
                guard d >= 0, present[i][d], constraints[i].includes(node, cycle) else { continue }
                counts[i][d] += constraints[i].matchingPods(on: node, namespace: namespace)
            }
        }
        cycle.spreadScore = TopologySpreadScoreState(constraints: constraints, indexes: indexes, counts: counts,
                                                     weights: sizes.map { log(Double($0 + 2)) }, ignored: ignored)
    }

    /// Σ over the constraints of (matching pods in the node's domain × the domain count's weight
    /// + maxSkew − 1): lower is better.
    func score(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Int64 {
        guard let state = cycle.spreadScore, state.ignored.isEmpty || !state.ignored.contains(node.name) else { return 0 }
        let namespace = cycle.pod.metadata.namespace ?? "default", nodes = cycle.cluster.nodes
        var score = 0.0
        for (i, c) in state.constraints.enumerated() {
            guard let d = Self.domain(node, state.indexes[i], c.topologyKey, nodes) else { continue }
            let count = c.topologyKey == TopologyKey.hostname ? c.matchingPods(on: node, namespace: namespace) : state.counts[i][d]
            score += Double(count) * state.weights[i] + Double(c.maxSkew - 1)
        }
        return Int64(score.rounded())
    }

    /// 100 × (max + min − score) / max over the nodes not ignored; ignored nodes 0.
    func normalize(_ cycle: SchedulingCycle, _ scores: [Int64], feasible: [NodeInfo]) -> [Int64] {
        guard let state = cycle.spreadScore else { return scores.map { _ in 0 } }
        var low = Int64.max, high: Int64 = 0
        for (i, s) in scores.enumerated() where !state.ignored.contains(feasible[i].name) {
            low = min(low, s)
            high = max(high, s)
        }
        return scores.indices.map { i in
            if state.ignored.contains(feasible[i].name) { return 0 }
            if high == 0 { return maxNodeScore }
            return maxNodeScore * (high + low - scores[i]) / high
        }
    }
}

/// PodTopologySpread's filter reasons, in kube-scheduler's words (shared with `kj why`).
public enum PodTopologySpreadReasons {
    public static let skew = "node(s) didn't match pod topology spread constraints"
    public static let missingLabel = "node(s) didn't match pod topology spread constraints (missing required label)"
}
