import ClusterModel

// The plugins that look at one node at a time (kube-scheduler's pkg/scheduler/framework/plugins):
// its schedulability, name, taints, labels, ports, resources and images.

/// Nodes marked `spec.unschedulable` (cordoned), unless the pod tolerates
/// `node.kubernetes.io/unschedulable:NoSchedule`.
struct NodeUnschedulablePlugin: FilterPlugin {
    let name = PluginName.nodeUnschedulable
    static let taint = Taint(key: "node.kubernetes.io/unschedulable", effect: "NoSchedule")

    func filter(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Rejection? {
        guard node.unschedulable, !cycle.tolerations.contains(where: { $0.tolerates(Self.taint) }) else { return nil }
        return Rejection(name, ["node(s) were unschedulable"], resolvable: false)
    }
}

/// `spec.nodeName` set on an unscheduled pod.
struct NodeNamePlugin: FilterPlugin {
    let name = PluginName.nodeName

    func filter(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Rejection? {
        guard let wanted = cycle.pod.spec.nodeName, !wanted.isEmpty, wanted != node.name else { return nil }
        return Rejection(name, ["node(s) didn't match the requested node name"], resolvable: false)
    }
}

/// NoSchedule and NoExecute taints the pod must tolerate; PreferNoSchedule taints it does not
/// tolerate count against the node.
struct TaintTolerationPlugin: FilterPlugin, ScorePlugin {
    let name = PluginName.taintToleration

    func filter(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Rejection? {
        for taint in node.taints where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
            if !cycle.tolerations.contains(where: { $0.tolerates(taint) }) {
                return Rejection(name, ["node(s) had untolerated taint {\(taint.key): \(taint.value ?? "")}"], resolvable: false)
            }
        }
        return nil
    }

    /// How many PreferNoSchedule taints the pod does not tolerate.
    func score(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Int64 {
        let relevant = cycle.tolerations.filter { ($0.effect ?? "").isEmpty || $0.effect == "PreferNoSchedule" }
        return Int64(node.taints.filter { t in t.effect == "PreferNoSchedule" && !relevant.contains { $0.tolerates(t) } }.count)
    }

    func normalize(_ cycle: SchedulingCycle, _ scores: [Int64], feasible: [NodeInfo]) -> [Int64] {
        defaultNormalize(scores, reverse: true)
    }
}

/// `spec.nodeSelector` and required node affinity must match; preferred terms add their weights.
/// A required affinity that names nodes by `matchFields: metadata.name` limits the search to
/// those nodes at PreFilter, as kube-scheduler 1.32 does.
struct NodeAffinityPlugin: FilterPlugin, ScorePlugin {
    let name = PluginName.nodeAffinity
    static let notMatched = "node(s) didn't match Pod's node affinity/selector"

    func filter(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Rejection? {
        Self.matchesRequired(cycle.pod, node) ? nil : Rejection(name, [Self.notMatched], resolvable: false)
    }

    /// The nodes a required affinity names with `matchFields: metadata.name In […]` in every term
    /// (nil: any node may match).
    static func namedNodes(_ pod: Pod) -> Set<String>? {
        guard let terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
              !terms.isEmpty else { return nil }
        var named = Set<String>()
        for term in terms {
            let names = (term.matchFields ?? []).filter { $0.key == "metadata.name" && $0.operator == "In" }.map { Set($0.values ?? []) }
            guard let first = names.first else { return nil }
            named.formUnion(names.dropFirst().reduce(first) { $0.intersection($1) })
        }
        return named
    }

    static func matchesRequired(_ pod: Pod, _ n: NodeInfo) -> Bool {
        let labels = n.labels
        for (k, v) in pod.spec.nodeSelector ?? [:] where labels[k] != v { return false }
        guard let required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution else { return true }
        return required.nodeSelectorTerms.contains { matches($0, labels: labels, name: n.name) }
    }

    /// A node selector term: all its requirements hold (an empty term matches nothing).
    static func matches(_ term: NodeSelectorTerm, labels: [String: String], name: String) -> Bool {
        let exprs = term.matchExpressions ?? [], fields = term.matchFields ?? []
        guard !exprs.isEmpty || !fields.isEmpty else { return false }
        for r in exprs where !matches(r, value: labels[r.key]) { return false }
        for r in fields where !(r.key == "metadata.name" && matches(r, value: name)) { return false }
        return true
    }

    static func matches(_ r: NodeSelectorRequirement, value: String?) -> Bool {
        let values = r.values ?? []
        switch r.operator {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return !(value.map(values.contains) ?? false)
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let v = value.flatMap({ Int64($0) }), let bound = values.first.flatMap({ Int64($0) }) else { return false }
            return r.operator == "Gt" ? v > bound : v < bound
        default: return false
        }
    }

    /// The sum of the weights of the preferred node-affinity terms the node matches.
    func score(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Int64 {
        let labels = node.labels
        return (cycle.pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
            .filter { Self.matches($0.preference, labels: labels, name: node.name) }
            .reduce(0) { $0 + Int64($1.weight) }
    }

    func normalize(_ cycle: SchedulingCycle, _ scores: [Int64], feasible: [NodeInfo]) -> [Int64] {
        defaultNormalize(scores, reverse: false)
    }
}

/// Host ports the pod asks for must be free on the node.
struct NodePortsPlugin: FilterPlugin {
    let name = PluginName.nodePorts

    func filter(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Rejection? {
        guard cycle.request.hostPorts.contains(where: node.portInUse) else { return nil }
        return Rejection(name, ["node(s) didn't have free ports for the requested pod ports"])
    }
}

/// The node must have room for the pod's requests (and one more pod); the score follows the
/// profile's scoring strategy.
struct NodeResourcesFitPlugin: FilterPlugin, ScorePlugin {
    let name = PluginName.nodeResourcesFit
    var strategy: ScoringStrategy

    func filter(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Rejection? {
        let r = cycle.request
        var reasons: [String] = []
        if node.requested.pods + 1 > node.allocatable.pods { reasons.append("Too many pods") }
        if r.requested.milliCPU > 0, r.requested.milliCPU > node.allocatable.milliCPU - node.requested.milliCPU { reasons.append("Insufficient cpu") }
        if r.requested.memory > 0, r.requested.memory > node.allocatable.memory - node.requested.memory { reasons.append("Insufficient memory") }
        // Ephemeral storage, extended resources (nvidia.com/gpu), hugepages: by name.
        for (resource, amount) in r.requested.scalar.sorted(by: { $0.key < $1.key }) where amount > 0 {
            if amount > (node.allocatable.scalar[resource] ?? 0) - (node.requested.scalar[resource] ?? 0) { reasons.append("Insufficient \(resource)") }
        }
        return reasons.isEmpty ? nil : Rejection(name, reasons)
    }

    /// The strategy's score over the configured resources (CPU and memory), weighted, with the
    /// non-zero requests (100m and 200 MiB for containers that request nothing).
    func score(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Int64 {
        var total: Int64 = 0, weights: Int64 = 0
        for resource in strategy.resources {
            let requested: Int128, allocatable: Int128
            switch resource.name {
            case "cpu": (requested, allocatable) = (node.nonZeroRequested.milliCPU + cycle.request.nonZero.milliCPU, node.allocatable.milliCPU)
            case "memory": (requested, allocatable) = (node.nonZeroRequested.memory + cycle.request.nonZero.memory, node.allocatable.memory)
            default: continue
            }
            total += strategy.score(requested: requested, allocatable: allocatable) * resource.weight
            weights += resource.weight
        }
        return weights == 0 ? 0 : total / weights
    }
}

/// How NodeResourcesFit scores (kube-scheduler's `scoringStrategy`).
public struct ScoringStrategy: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case leastAllocated = "LeastAllocated", mostAllocated = "MostAllocated"
        case requestedToCapacityRatio = "RequestedToCapacityRatio"
    }

    /// A resource and its weight in the score.
    public struct Resource: Sendable, Equatable, Codable {
        public var name: String
        public var weight: Int64
    }

    /// A point of RequestedToCapacityRatio's shape: utilisation (0–100) → score (0–10).
    public struct ShapePoint: Sendable, Equatable, Codable {
        public var utilization: Int64
        public var score: Int64
    }

    public var type: Kind
    public var resources: [Resource]
    public var shape: [ShapePoint]

    public static let leastAllocated = ScoringStrategy(type: .leastAllocated, resources: [.init(name: "cpu", weight: 1), .init(name: "memory", weight: 1)], shape: [])

    /// One resource's score, 0–100.
    func score(requested: Int128, allocatable: Int128) -> Int64 {
        guard allocatable > 0 else { return 0 }
        switch type {
        case .leastAllocated:
            guard requested <= allocatable else { return 0 }
            return Int64((allocatable - requested) * Int128(maxNodeScore) / allocatable)
        case .mostAllocated:
            return Int64(min(requested, allocatable) * Int128(maxNodeScore) / allocatable)
        case .requestedToCapacityRatio:
            let utilization = Int64(min(requested, allocatable) * 100 / allocatable)
            return Self.interpolate(shape.map { ($0.utilization, $0.score * (maxNodeScore / 10)) }, at: utilization)
        }
    }

    /// The piecewise-linear function through `points` (sorted by x), constant beyond its ends.
    static func interpolate(_ points: [(Int64, Int64)], at x: Int64) -> Int64 {
        guard let first = points.first, let last = points.last else { return 0 }
        if x <= first.0 { return first.1 }
        for i in 1..<points.count where x <= points[i].0 {
            let (x0, y0) = points[i - 1], (x1, y1) = points[i]
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        }
        return last.1
    }
}

/// BalancedAllocation: 100 × (1 − the standard deviation of the CPU and memory fractions).
struct BalancedAllocationPlugin: ScorePlugin {
    let name = PluginName.nodeResourcesBalancedAllocation

    /// `v` as a Double: through Int64 when it fits (the generic 128-bit conversion is slow).
    static func double(_ v: Int128) -> Double {
        v >= Int128(Int64.min) && v <= Int128(Int64.max) ? Double(Int64(truncatingIfNeeded: v)) : Double(v)
    }

    func score(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Int64 {
        func fraction(_ requested: Int128, _ allocatable: Int128) -> Double {
            allocatable > 0 ? min(1, Self.double(requested) / Self.double(allocatable)) : 0
        }
        let r = cycle.request
        let cpu = fraction(node.requested.milliCPU + r.requested.milliCPU, node.allocatable.milliCPU)
        let memory = fraction(node.requested.memory + r.requested.memory, node.allocatable.memory)
        let std = abs(cpu - memory) / 2
        return Int64((1 - std) * Double(maxNodeScore))
    }
}

/// ImageLocality: the sizes of the pod's images present on the node, each scaled by the share of
/// nodes that have it, mapped from 23 MiB … 1000 MiB per container onto 0–100.
struct ImageLocalityPlugin: ScorePlugin {
    let name = PluginName.imageLocality

    func score(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Int64 {
        let images = cycle.request.images, totalNodes = cycle.cluster.nodes.count
        let mb: Int128 = 1024 * 1024
        let minThreshold = 23 * mb, maxThreshold = 1000 * mb * Int128(max(1, images.count))
        var sum: Int128 = 0
        for image in images {
            if let size = node.images[image] {
                // Image sizes come from node status (any Int64); the spread is at most 1.
                let spread = Double(cycle.cluster.imageNodes[image] ?? 0) / Double(max(1, totalNodes))
                sum += Int128(Double(max(0, size)) * spread)
            }
        }
        sum = min(max(sum, minThreshold), maxThreshold)
        return Int64(Int128(maxNodeScore) * (sum - minThreshold) / (maxThreshold - minThreshold))
    }
}
