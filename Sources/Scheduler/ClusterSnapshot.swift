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

    public init(nodes: [NodeInfo], imageNodes: [String: Int]? = nil, namespaceLabels: [String: [String: String]] = [:],
                workloads: WorkloadSelectors = WorkloadSelectors(), nominated: [String: [PodInfo]] = [:]) {
        self.nodes = nodes
        self.imageNodes = imageNodes ?? Self.imageNodes(nodes)
        self.namespaceLabels = namespaceLabels
        self.workloads = workloads
        self.nominated = nominated
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
            requirements += selector.requirements
        }
        return LabelSelectorExpression(requirements)
    }
}
