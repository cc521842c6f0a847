import ClusterModel

/// The cluster as one scheduling attempt sees it: the nodes (sorted by name) with their pods, how
/// many nodes hold each image, the namespaces' labels (for pod affinity's `namespaceSelector`) and
/// the selectors of the Services and ReplicaSets (for PodTopologySpread's system defaults).
public struct ClusterSnapshot {
    public var nodes: [NodeInfo]
    public var imageNodes: [String: Int]
    public var namespaceLabels: [String: [String: String]]
    public var workloads: WorkloadSelectors
    /// Pods nominated to a node by preemption and not bound yet, by node: what they will take is
    /// held for them against pods of no higher priority.
    public var nominated: [String: [PodInfo]]
    /// Claims, volumes and classes, for VolumeBinding.
    public var volumes: VolumeFacts
    /// The nodes' topology domains, numbered (valid for these nodes and their labels).
    let topology: TopologyIndexes
    /// Which nodes hold pods with each label, when the caller keeps one for these nodes.
    var labels: LabelIndex?

    public init(nodes: [NodeInfo], imageNodes: [String: Int]? = nil, namespaceLabels: [String: [String: String]] = [:],
                workloads: WorkloadSelectors = WorkloadSelectors(), nominated: [String: [PodInfo]] = [:], volumes: VolumeFacts = VolumeFacts(),
                topology: TopologyIndexes = TopologyIndexes(), labels: LabelIndex? = nil) {
        self.nodes = nodes
        for (i, n) in nodes.enumerated() where n.position != i { n.position = i }
        self.topology = topology
        self.labels = labels
        self.imageNodes = imageNodes ?? Self.imageNodes(nodes)
        self.namespaceLabels = namespaceLabels
        self.workloads = workloads
        self.nominated = nominated
        self.volumes = volumes
    }

    /// `node` with the pods nominated to it that `pod` must leave room for (priority at least its
    /// own, other than itself), or `node` itself when there are none.
    func withNominated(_ node: NodeInfo, for pod: PodInfo) -> NodeInfo {
        let ahead = (nominated[node.name] ?? []).filter { $0.priority >= pod.priority && $0.key != pod.key }
        guard !ahead.isEmpty else { return node }
        let copy = node.copy()
        for p in ahead { copy.add(p) }
        return copy
    }

    /// How many nodes hold each image.
    public static func imageNodes(_ nodes: [NodeInfo]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for n in nodes { for image in n.images.keys { counts[image, default: 0] += 1 } }
        return counts
    }
}

/// The label selectors of the Services and ReplicaSets in each namespace, from which
/// kube-scheduler builds a pod's default spreading selector (`helper.DefaultSelector`).
public struct WorkloadSelectors: Sendable {
    /// namespace → name → a Service's `spec.selector`.
    public var services: [String: [String: [String: String]]] = [:]
    /// namespace → name → a ReplicaSet's `spec.selector`.
    public var replicaSets: [String: [String: LabelSelectorExpression]] = [:]

    public init() {}

    /// Takes a Service's selector (nil: the Service is gone or selects nothing).
    public mutating func setService(namespace: String, name: String, selector: [String: String]?) {
        services[namespace, default: [:]][name] = selector
    }

    /// Takes a ReplicaSet's selector (nil: the ReplicaSet is gone).
    public mutating func setReplicaSet(namespace: String, name: String, selector: LabelSelectorExpression?) {
        replicaSets[namespace, default: [:]][name] = selector
    }

    /// kube-scheduler's `DefaultSelector`: the selectors of every Service in the pod's namespace
    /// that selects the pod, merged (they all match it, so they cannot conflict), and the selector
    /// of the ReplicaSet that controls it. Empty when nothing selects the pod.
    public func defaultSelector(for pod: Pod) -> LabelSelectorExpression {
        let namespace = pod.metadata.namespace ?? "default", labels = pod.metadata.labels ?? [:]
        var merged: [String: String] = [:]
        for (_, selector) in (services[namespace] ?? [:]).sorted(by: { $0.key < $1.key })
        where LabelSelectorExpression(labels: selector).matches(labels) {
            merged.merge(selector) { a, _ in a }
        }
        var requirements = LabelSelectorExpression(labels: merged).requirements
        if let owner = pod.metadata.ownerReferences?.first(where: { $0.controller == true && $0.kind == ReplicaSet.kind && $0.apiVersion == ReplicaSet.apiVersion }),
           let selector = replicaSets[namespace]?[owner.name] {
            // A requirement the Services already make (app=web) would only repeat itself.
            requirements += selector.requirements.filter { !requirements.contains($0) }
        }
        return LabelSelectorExpression(requirements)
    }
}

/// For one topology key, each node's domain as a small integer (kube-scheduler's topology pairs,
/// numbered): spreading counts pods per domain in arrays instead of hashing label values for every
/// node of every attempt.
final class TopologyIndex {
    /// The domains' values, by number.
    let values: [String]
    /// Each node's domain (by the snapshot's node order), or -1 without the label.
    let domainOfNode: [Int32]
    /// The number of each value.
    let domainOfValue: [String: Int32]

    init(key: String, nodes: [NodeInfo]) {
        var values: [String] = [], numbers: [String: Int32] = [:], ofNode: [Int32] = []
        ofNode.reserveCapacity(nodes.count)
        for n in nodes {
            guard let v = n.labels[key] else { ofNode.append(-1); continue }
            if let d = numbers[v] {
                ofNode.append(d)
            } else {
                let d = Int32(values.count)
                numbers[v] = d
                values.append(v)
                ofNode.append(d)
            }
        }
        self.values = values
        domainOfNode = ofNode
        domainOfValue = numbers
    }
}

/// The topology indexes of one set of nodes, built on first use. The scheduler keeps one while its
/// nodes and their labels stay the same; a snapshot made elsewhere starts its own.
public final class TopologyIndexes {
    private var byKey: [String: TopologyIndex] = [:]
    private var positions: [String: Int]?

    public init() {}

    /// Where each node is in `nodes`, by name.
    func position(_ nodes: [NodeInfo]) -> [String: Int] {
        if let positions, positions.count == nodes.count { return positions }
        let p = Dictionary(nodes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        positions = p
        return p
    }

    func index(_ key: String, _ nodes: [NodeInfo]) -> TopologyIndex {
        if let i = byKey[key], i.domainOfNode.count == nodes.count { return i }
        let i = TopologyIndex(key: key, nodes: nodes)
        byKey[key] = i
        return i
    }
}

/// Which nodes hold pods carrying each label, by namespace: spreading counts only those nodes
/// instead of every node of the cluster. Kept by the scheduler as pods come and go.
public final class LabelIndex {
    private var nodes: [NodeInfo.PodLabel: Set<String>] = [:]
    /// Existing pods' required anti-affinity terms: on which nodes, how many pods each.
    private(set) var antiAffinity: [AffinityTerm: [String: Int]] = [:]

    public init() {}

    func count(_ term: AffinityTerm, on node: String, _ delta: Int) {
        let n = (antiAffinity[term]?[node] ?? 0) + delta
        antiAffinity[term, default: [:]][node] = n > 0 ? n : nil
        if antiAffinity[term]?.isEmpty == true { antiAffinity[term] = nil }
    }

    func set(_ label: NodeInfo.PodLabel, on node: String, present: Bool) {
        if present {
            nodes[label, default: []].insert(node)
        } else if nodes[label]?.remove(node) != nil, nodes[label]?.isEmpty == true {
            nodes[label] = nil
        }
    }

    /// The nodes that may hold pods in `namespace` that `selector` matches: those holding its
    /// rarest required label (nil: the selector requires no single label, any node may).
    func candidates(_ selector: LabelSelectorExpression, namespace: String) -> Set<String>? {
        var best: Set<String>?
        for r in selector.requirements where r.op == .equals || (r.op == .in && r.values.count == 1) {
            let holders = nodes[NodeInfo.PodLabel(namespace: namespace, key: r.key, value: r.values[0])] ?? []
            if best == nil || holders.count < best!.count { best = holders }
        }
        return best
    }
}
