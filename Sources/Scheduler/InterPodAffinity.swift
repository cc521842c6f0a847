import ClusterModel

/// A pod's affinity and anti-affinity terms, resolved for matching (kube-scheduler's PodInfo does the same).
struct PodAffinityTerms: Sendable, Equatable {
    var requiredAffinity: [AffinityTerm]
    var requiredAntiAffinity: [AffinityTerm]
    var preferredAffinity: [AffinityTerm]
    var preferredAntiAffinity: [AffinityTerm]

    /// Nil when the pod has no pod affinity or anti-affinity.
    init?(_ pod: Pod) {
        let affinity = pod.spec.affinity?.podAffinity, anti = pod.spec.affinity?.podAntiAffinity
        guard affinity != nil || anti != nil else { return nil }
        let owner = pod.metadata.namespace ?? "default", labels = pod.metadata.labels ?? [:]
        func required(_ terms: [PodAffinityTerm]?) -> [AffinityTerm] { (terms ?? []).map { AffinityTerm($0, owner: owner, ownerLabels: labels) } }
        func preferred(_ terms: [WeightedPodAffinityTerm]?) -> [AffinityTerm] {
            (terms ?? []).map { AffinityTerm($0.podAffinityTerm, owner: owner, ownerLabels: labels, weight: Int64($0.weight)) }
        }
        requiredAffinity = required(affinity?.requiredDuringSchedulingIgnoredDuringExecution)
        requiredAntiAffinity = required(anti?.requiredDuringSchedulingIgnoredDuringExecution)
        preferredAffinity = preferred(affinity?.preferredDuringSchedulingIgnoredDuringExecution)
        preferredAntiAffinity = preferred(anti?.preferredDuringSchedulingIgnoredDuringExecution)
    }
}

/// A pod affinity term resolved for matching: its selector and the namespaces it looks in.
struct AffinityTerm: Sendable, Hashable {
    var selector: LabelSelectorExpression?
    var namespaces: Set<String>
    var namespaceSelector: LabelSelectorExpression?
    var topologyKey: String
    var weight: Int64

    /// `owner` is the namespace of the pod that has the term: with neither `namespaces` nor a
    /// `namespaceSelector`, the term looks in that namespace only. `matchLabelKeys` and
    /// `mismatchLabelKeys` add the owner's values for those keys to the selector.
    init(_ term: PodAffinityTerm, owner: String, ownerLabels: [String: String], weight: Int64 = 1) {
        var selector = term.labelSelector.map(LabelSelectorExpression.init)
        for key in term.matchLabelKeys ?? [] { if let v = ownerLabels[key] { selector?.requirements.append(LabelRequirement(key: key, op: .in, values: [v])) } }
        for key in term.mismatchLabelKeys ?? [] { if let v = ownerLabels[key] { selector?.requirements.append(LabelRequirement(key: key, op: .notIn, values: [v])) } }
        self.selector = selector
        namespaces = Set(term.namespaces ?? [])
        namespaceSelector = term.namespaceSelector.map(LabelSelectorExpression.init)
        if namespaces.isEmpty, namespaceSelector == nil { namespaces = [owner] }
        topologyKey = term.topologyKey
        self.weight = weight
    }

    /// False when no pod on `node` can match: the term looks in one namespace and a label it
    /// requires is on no pod there (what lets most nodes be skipped without looking at their pods).
    func mayMatch(on node: NodeInfo) -> Bool {
        guard namespaceSelector == nil, namespaces.count == 1, let namespace = namespaces.first, let selector else { return selector != nil }
        for r in selector.requirements where r.op == .equals || (r.op == .in && r.values.count == 1) {
            if node.pods(in: namespace, labelled: r.key, r.values[0]) == 0 { return false }
        }
        return true
    }

    /// Whether the term selects a pod with `labels` in `namespace` (whose labels are `namespaceLabels`).
    func matches(namespace: String, labels: [String: String], namespaceLabels: [String: String]?) -> Bool {
        guard let selector else { return false }
        let inNamespace = namespaces.contains(namespace) || (namespaceSelector.map { $0.matches(namespaceLabels ?? [:]) } ?? false)
        return inNamespace && selector.matches(labels)
    }
}

/// A topology domain: a label key and value.
struct TopologyPair: Hashable, Sendable {
    var key: String
    var value: String
}

/// What InterPodAffinity's PreFilter counted.
struct PodAffinityState {
    var affinity: [AffinityTerm]
    var antiAffinity: [AffinityTerm]
    /// Domains holding pods that match the incoming pod's required affinity terms.
    var affinityCounts: [TopologyPair: Int64]
    var antiAffinityCounts: [TopologyPair: Int64]
    /// Domains where an existing pod's required anti-affinity term matches the incoming pod.
    var existingAntiAffinityCounts: [TopologyPair: Int64]
}

/// What InterPodAffinity's PreScore summed: per topology key, per value, a score.
struct PodAffinityScoreState {
    var scores: [String: [String: Int64]]
}

/// InterPodAffinity: required pod affinity and anti-affinity (the pod's and, against it, the
/// existing pods' anti-affinity) filter; preferred terms (the pod's, and existing pods' terms that
/// match it, with `hardPodAffinityWeight` for their required affinity) score.
struct InterPodAffinityPlugin: FilterPlugin, ScorePlugin {
    let name = PluginName.interPodAffinity
    var hardPodAffinityWeight: Int64

    static let existingAntiAffinityNotMatched = InterPodAffinityPluginReasons.existingAntiAffinity
    static let affinityNotMatched = InterPodAffinityPluginReasons.affinity
    static let antiAffinityNotMatched = InterPodAffinityPluginReasons.antiAffinity

    func preFilter(_ cycle: SchedulingCycle) -> Rejection? {
        let pod = cycle.pod, namespace = pod.metadata.namespace ?? "default", labels = pod.metadata.labels ?? [:]
        let namespaceLabels = cycle.cluster.namespaceLabels
        let own = cycle.podTerms
        let affinity = own?.requiredAffinity ?? [], antiAffinity = own?.requiredAntiAffinity ?? []
        var state = PodAffinityState(affinity: affinity, antiAffinity: antiAffinity, affinityCounts: [:], antiAffinityCounts: [:], existingAntiAffinityCounts: [:])
        // Existing pods' required anti-affinity: with the scheduler's index, each distinct term once
        // (and only the nodes holding it); without it, every such pod's terms.
        let existing = cycle.cluster.labels.map { Self.existingAntiAffinity(pod, namespace, labels, namespaceLabels, $0, cycle.cluster) }
        if let existing { state.existingAntiAffinityCounts = existing }
        for node in cycle.cluster.nodes {
            if existing == nil, node.podsWithRequiredAntiAffinity > 0 {
                for existing in node.pods.values where existing.hasRequiredAntiAffinity {
                    for t in existing.terms!.requiredAntiAffinity {
                        guard let value = node.labels[t.topologyKey],
                              t.matches(namespace: namespace, labels: labels, namespaceLabels: namespaceLabels[namespace]) else { continue }
                        state.existingAntiAffinityCounts[TopologyPair(key: t.topologyKey, value: value), default: 0] += 1
                    }
                }
            }
            guard !affinity.isEmpty || !antiAffinity.isEmpty, !node.pods.isEmpty,
                  affinity.contains(where: { $0.mayMatch(on: node) }) || antiAffinity.contains(where: { $0.mayMatch(on: node) }) else { continue }
            for existing in node.pods.values {
                let nsLabels = namespaceLabels[existing.namespace]
                // A pod counts for the affinity terms only if it matches all of them.
                if !affinity.isEmpty, affinity.allSatisfy({ $0.matches(namespace: existing.namespace, labels: existing.labels, namespaceLabels: nsLabels) }) {
                    for t in affinity {
                        if let value = node.labels[t.topologyKey] { state.affinityCounts[TopologyPair(key: t.topologyKey, value: value), default: 0] += 1 }
                    }
                }
                for t in antiAffinity where t.matches(namespace: existing.namespace, labels: existing.labels, namespaceLabels: nsLabels) {
                    if let value = node.labels[t.topologyKey] { state.antiAffinityCounts[TopologyPair(key: t.topologyKey, value: value), default: 0] += 1 }
                }
            }
        }
        cycle.podAffinity = state
        return nil
    }

    /// Domains where an existing pod's required anti-affinity term selects the incoming pod, from the
    /// index of terms by node: each distinct term is matched once.
    static func existingAntiAffinity(_ pod: Pod, _ namespace: String, _ labels: [String: String], _ namespaceLabels: [String: [String: String]],
                                     _ index: LabelIndex, _ cluster: ClusterSnapshot) -> [TopologyPair: Int64] {
        var counts: [TopologyPair: Int64] = [:]
        let position = cluster.topology.position(cluster.nodes)
        for (term, holders) in index.antiAffinity
        where term.matches(namespace: namespace, labels: labels, namespaceLabels: namespaceLabels[namespace]) {
            for (name, n) in holders {
                guard let p = position[name], let value = cluster.nodes[p].labels[term.topologyKey] else { continue }
                counts[TopologyPair(key: term.topologyKey, value: value), default: 0] += Int64(n)
            }
        }
        return counts
    }

    /// kube-scheduler's order: the pod's affinity, its anti-affinity, then existing pods' anti-affinity.
    func filter(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Rejection? {
        guard let state = cycle.podAffinity else { return nil }
        if !satisfiesAffinity(cycle, state, node) { return Rejection(name, [Self.affinityNotMatched], resolvable: false) }
        for t in state.antiAffinity {
            if let value = node.labels[t.topologyKey], (state.antiAffinityCounts[TopologyPair(key: t.topologyKey, value: value)] ?? 0) > 0 {
                return Rejection(name, [Self.antiAffinityNotMatched])
            }
        }
        if !state.existingAntiAffinityCounts.isEmpty,
           node.labels.contains(where: { (state.existingAntiAffinityCounts[TopologyPair(key: $0.key, value: $0.value)] ?? 0) > 0 }) {
            return Rejection(name, [Self.existingAntiAffinityNotMatched])
        }
        return nil
    }

    /// Every required affinity term's key is on the node and its domain holds a matching pod; or
    /// no pod anywhere matches and the pod matches its own terms (the first pod of a group).
    func satisfiesAffinity(_ cycle: SchedulingCycle, _ state: PodAffinityState, _ node: NodeInfo) -> Bool {
        guard !state.affinity.isEmpty else { return true }
        var podsExist = true
        for t in state.affinity {
            guard let value = node.labels[t.topologyKey] else { return false }
            if (state.affinityCounts[TopologyPair(key: t.topologyKey, value: value)] ?? 0) <= 0 { podsExist = false }
        }
        if podsExist { return true }
        let pod = cycle.pod, namespace = pod.metadata.namespace ?? "default"
        return state.affinityCounts.isEmpty && state.affinity.allSatisfy {
            $0.matches(namespace: namespace, labels: pod.metadata.labels ?? [:], namespaceLabels: cycle.cluster.namespaceLabels[namespace])
        }
    }

    func preScore(_ cycle: SchedulingCycle, feasible: [NodeInfo]) {
        let pod = cycle.pod, namespace = pod.metadata.namespace ?? "default", labels = pod.metadata.labels ?? [:]
        let namespaceLabels = cycle.cluster.namespaceLabels
        let own = cycle.podTerms
        let preferred = own?.preferredAffinity ?? [], preferredAnti = own?.preferredAntiAffinity ?? []
        let hasConstraints = !preferred.isEmpty || !preferredAnti.isEmpty
        var scores: [String: [String: Int64]] = [:]
        func add(_ t: AffinityTerm, _ multiplier: Int64, nodeLabels: [String: String], matches: Bool) {
            guard matches, let value = nodeLabels[t.topologyKey] else { return }
            scores[t.topologyKey, default: [:]][value, default: 0] += t.weight * multiplier
        }
        for node in cycle.cluster.nodes where hasConstraints || node.podsWithAffinity > 0 {
            for existing in node.pods.values where hasConstraints || existing.hasAffinityTerms {
                let existingNamespaceLabels = namespaceLabels[existing.namespace]
                for t in preferred { add(t, 1, nodeLabels: node.labels, matches: t.matches(namespace: existing.namespace, labels: existing.labels, namespaceLabels: existingNamespaceLabels)) }
                for t in preferredAnti { add(t, -1, nodeLabels: node.labels, matches: t.matches(namespace: existing.namespace, labels: existing.labels, namespaceLabels: existingNamespaceLabels)) }
                guard let terms = existing.terms else { continue }
                let incomingMatches = { (t: AffinityTerm) in t.matches(namespace: namespace, labels: labels, namespaceLabels: namespaceLabels[namespace]) }
                if hardPodAffinityWeight > 0 {
                    for var t in terms.requiredAffinity {
                        t.weight = hardPodAffinityWeight
                        add(t, 1, nodeLabels: node.labels, matches: incomingMatches(t))
                    }
                }
                for t in terms.preferredAffinity { add(t, 1, nodeLabels: node.labels, matches: incomingMatches(t)) }
                for t in terms.preferredAntiAffinity { add(t, -1, nodeLabels: node.labels, matches: incomingMatches(t)) }
            }
        }
        if !scores.isEmpty { cycle.podAffinityScore = PodAffinityScoreState(scores: scores) }
    }

    /// The sum of the scores of the node's domains.
    func score(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Int64 {
        guard let state = cycle.podAffinityScore else { return 0 }
        var total: Int64 = 0
        for (key, values) in state.scores { if let v = node.labels[key] { total += values[v] ?? 0 } }
        return total
    }

    /// 100 × (score − min) / (max − min); all equal gives 0.
    func normalize(_ cycle: SchedulingCycle, _ scores: [Int64], feasible: [NodeInfo]) -> [Int64] {
        guard cycle.podAffinityScore != nil, let low = scores.min(), let high = scores.max(), high > low else { return scores.map { _ in 0 } }
        return scores.map { Int64(Double(maxNodeScore) * (Double($0 - low) / Double(high - low))) }
    }
}

/// InterPodAffinity's filter reasons, in kube-scheduler's words (shared with `kj why`).
public enum InterPodAffinityPluginReasons {
    public static let existingAntiAffinity = "node(s) didn't satisfy existing pods anti-affinity rules"
    public static let affinity = "node(s) didn't match pod affinity rules"
    public static let antiAffinity = "node(s) didn't match pod anti-affinity rules"
}

/// The pods behind InterPodAffinity's verdicts, for explanations.
public enum PodAffinityMatches {
    /// A pod that a required (anti-)affinity rule counts: on which node, and by which rule.
    public struct Match: Sendable, Equatable {
        /// `affinity`, `anti-affinity` (the pod's terms select it) or `existing anti-affinity` (its
        /// terms select the pod).
        public var rule: String
        public var node: String
        public var pod: String
    }

    /// The pods on `cluster`'s nodes that `pod`'s required affinity and anti-affinity select, and
    /// those whose required anti-affinity selects `pod`, sorted by node and pod: what `kj why` names.
    public static func find(for pod: Pod, in cluster: ClusterSnapshot) -> [Match] {
        let namespace = pod.metadata.namespace ?? "default", labels = pod.metadata.labels ?? [:]
        let own = PodAffinityTerms(pod)
        var out: [Match] = []
        for node in cluster.nodes {
            for existing in node.pods.values.sorted(by: { $0.key < $1.key }) {
                let nsLabels = cluster.namespaceLabels[existing.namespace]
                if let own, !own.requiredAffinity.isEmpty,
                   own.requiredAffinity.allSatisfy({ $0.matches(namespace: existing.namespace, labels: existing.labels, namespaceLabels: nsLabels) }) {
                    out.append(Match(rule: "affinity", node: node.name, pod: existing.key))
                }
                if let own, own.requiredAntiAffinity.contains(where: { $0.matches(namespace: existing.namespace, labels: existing.labels, namespaceLabels: nsLabels) }) {
                    out.append(Match(rule: "anti-affinity", node: node.name, pod: existing.key))
                }
                if let terms = existing.terms,
                   terms.requiredAntiAffinity.contains(where: { $0.matches(namespace: namespace, labels: labels, namespaceLabels: cluster.namespaceLabels[namespace]) }) {
                    out.append(Match(rule: "existing anti-affinity", node: node.name, pod: existing.key))
                }
            }
        }
        return out
    }
}
