import ClusterModel
import Crypto
import Foundation

/// One node's filter verdict for a pod.
public struct NodeVerdict: Sendable, Equatable {
    public var node: String
    /// The filter plugin that rejected the node (nil: the node fits).
    public var plugin: String?
    /// Its reasons, in kube-scheduler's words (`Insufficient cpu`).
    public var reasons: [String]

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

    /// kube-scheduler's FitError text: `0/3 nodes are available: 1 node(s) had untolerated taint
    /// {node.kubernetes.io/not-ready: }, 2 Insufficient cpu.`
    public var unschedulableMessage: String {
        var counts: [String: Int] = [:]
        for v in verdicts { for r in v.reasons { counts[r, default: 0] += 1 } }
        let parts = counts.map { "\($0.value) \($0.key)" }.sorted()
        return "0/\(totalNodes) nodes are available" + (parts.isEmpty ? "." : ": " + parts.joined(separator: ", ") + ".")
    }

    /// The decision event's payload: compact however many nodes there are. Filter failures are
    /// counted by reason with at most `nodeLimit` node names each; scores are kept for the `top`
    /// best candidates. The full table can be recomputed from the observed state.
    public func decisionData(pod: Pod, attempt: Int, nodeLimit: Int = 8, top: Int = 5) -> JSONValue {
        var byReason: [String: (plugin: String, nodes: [String], count: Int)] = [:]
        for v in verdicts where !v.feasible {
            for r in v.reasons {
                var e = byReason[r] ?? (v.plugin!, [], 0)
                e.count += 1
                if e.nodes.count < nodeLimit { e.nodes.append(v.node) }
                byReason[r] = e
            }
        }
        let filtered: [JSONValue] = byReason.keys.sorted().map { r in
            let e = byReason[r]!
            return .object(["reason": .string(r), "plugin": .string(e.plugin), "count": .int(Int64(e.count)),
                            "nodes": .array(e.nodes.map(JSONValue.string))])
        }
        let scored: [JSONValue] = scores.prefix(top).map { s in
            .object(["node": .string(s.node), "total": .int(s.total), "plugins": .array(s.plugins.map { p in
                .object(["plugin": .string(p.plugin), "raw": .int(p.raw), "score": .int(p.score), "weight": .int(p.weight)])
            })])
        }
        var data: [String: JSONValue] = [
            "pod": .string("\(pod.metadata.namespace ?? "default")/\(pod.metadata.name ?? "")"),
            "outcome": .string(chosen == nil ? "unschedulable" : "bound"),
            "nodes": .int(Int64(totalNodes)),
            "searched": .int(Int64(searched)),
            "searchStart": .int(Int64(searchStart)),
            "feasible": .int(Int64(scores.count)),
            "filtered": .array(filtered),
            "scores": .array(scored),
            "attempt": .int(Int64(attempt)),
            "profile": .string(SchedulingAlgorithm.profileName),
        ]
        if let chosen {
            data["node"] = .string(chosen)
            // The tied nodes can be thousands: keep the count and the first few; `why --full` recomputes all.
            data["tieBreak"] = .object(["count": .int(Int64(tied.count)), "tied": .array(tied.prefix(nodeLimit).map(JSONValue.string)),
                                        "picked": .string(chosen)])
        } else {
            data["message"] = .string(unschedulableMessage)
        }
        return .object(data)
    }
}

/// kube-scheduler's default profile, as a pure function of a pod, the nodes and a seed: the same
/// inputs always give the same result (which `kj why --full` relies on to re-run a decision).
///
/// Filters, in kube-scheduler's order (a node fails at its first failing filter): NodeUnschedulable,
/// NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit. Scores, with kube-scheduler's
/// default weights: NodeResourcesFit (LeastAllocated) 1, NodeResourcesBalancedAllocation 1,
/// TaintToleration 3, NodeAffinity 2, ImageLocality 1, each normalised to 0–100.
public enum SchedulingAlgorithm {
    public static let profileName = "default-scheduler"
    static let maxScore: Int64 = 100

    /// Schedules `pod` onto one of `nodes` (sorted by name), as kube-scheduler does: filter nodes
    /// starting at `startIndex` (wrapping) until enough feasible ones are found — all of them in
    /// clusters under 100 nodes, else `numFeasibleNodesToFind` — then score those and pick the best,
    /// breaking ties with the seed and the pod's uid. `imageNodes` (how many nodes hold each image)
    /// is computed when not given.
    public static func run(pod: Pod, nodes: [NodeInfo], seed: UInt64, startIndex: Int = 0, findAll: Bool = false,
                           imageNodes given: [String: Int]? = nil) -> SchedulingResult {
        let request = PodRequest(pod)
        var imageNodes = given ?? [:]
        if given == nil { for n in nodes { for image in n.images.keys { imageNodes[image, default: 0] += 1 } } }
        let total = nodes.count
        let wanted = findAll ? total : numFeasibleNodesToFind(total)
        var verdicts: [NodeVerdict] = []
        var feasible: [NodeInfo] = []
        feasible.reserveCapacity(min(wanted, total))
        let tolerations = pod.spec.tolerations ?? []
        var visited = 0
        while visited < total, feasible.count < wanted {
            let n = nodes[(startIndex + visited) % total]
            visited += 1
            let (plugin, reasons) = filter(pod, request, tolerations, n)
            if plugin == nil { feasible.append(n) } else { verdicts.append(NodeVerdict(node: n.name, plugin: plugin, reasons: reasons)) }
        }
        verdicts += feasible.map { NodeVerdict(node: $0.name, plugin: nil, reasons: []) }
        verdicts.sort { $0.node < $1.node }
        var result = SchedulingResult(verdicts: verdicts, scores: [], chosen: nil, tied: [], totalNodes: total, searchStart: startIndex, searched: visited)
        guard !feasible.isEmpty else { return result }

        // Raw scores per plugin, then normalisation across the feasible nodes found.
        let fit = feasible.map { leastAllocated(request, $0) }
        let balanced = feasible.map { balancedAllocation(request, $0) }
        let taintCounts = feasible.map { preferNoScheduleCount(tolerations, $0) }
        let affinity = feasible.map { preferredAffinity(pod, $0) }
        let images = feasible.map { imageLocality(request, $0, imageNodes: imageNodes, totalNodes: total) }
        let taintScores = normalize(taintCounts, reverse: true)
        let affinityScores = normalize(affinity, reverse: false)
        var scores: [NodeScore] = feasible.indices.map { i in
            let plugins = [
                PluginScore(plugin: "NodeResourcesFit", raw: fit[i], score: fit[i], weight: 1),
                PluginScore(plugin: "NodeResourcesBalancedAllocation", raw: balanced[i], score: balanced[i], weight: 1),
                PluginScore(plugin: "TaintToleration", raw: taintCounts[i], score: taintScores[i], weight: 3),
                PluginScore(plugin: "NodeAffinity", raw: affinity[i], score: affinityScores[i], weight: 2),
                PluginScore(plugin: "ImageLocality", raw: images[i], score: images[i], weight: 1),
            ]
            return NodeScore(node: feasible[i].name, total: plugins.reduce(0) { $0 + $1.weighted }, plugins: plugins)
        }
        scores.sort { ($0.total, $1.node) > ($1.total, $0.node) }
        let best = scores[0].total
        let tied = scores.prefix { $0.total == best }.map(\.node).sorted()
        result.scores = scores
        result.tied = tied
        result.chosen = tied[Int(tieBreakIndex(seed: seed, uid: pod.metadata.uid ?? "", count: tied.count))]
        return result
    }

    /// kube-scheduler's adaptive sample: every node below 100, else (50 − nodes/125)% of them
    /// (at least 5%), and at least 100.
    public static func numFeasibleNodesToFind(_ total: Int) -> Int {
        guard total >= 100 else { return total }
        let percentage = max(5, 50 - total / 125)
        return max(100, total * percentage / 100)
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

    // MARK: filters

    static func filter(_ pod: Pod, _ r: PodRequest, _ tolerations: [Toleration], _ n: NodeInfo) -> (String?, [String]) {
        if n.unschedulable,
           !tolerations.contains(where: { $0.tolerates(Taint(key: "node.kubernetes.io/unschedulable", effect: "NoSchedule")) }) {
            return ("NodeUnschedulable", ["node(s) were unschedulable"])
        }
        if let wanted = pod.spec.nodeName, !wanted.isEmpty, wanted != n.name {
            return ("NodeName", ["node(s) didn't match the requested node name"])
        }
        for taint in n.taints where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
            if !tolerations.contains(where: { $0.tolerates(taint) }) {
                return ("TaintToleration", ["node(s) had untolerated taint {\(taint.key): \(taint.value ?? "")}"])
            }
        }
        if !matchesRequiredAffinity(pod, n) {
            return ("NodeAffinity", ["node(s) didn't match Pod's node affinity/selector"])
        }
        if r.hostPorts.contains(where: n.portInUse) {
            return ("NodePorts", ["node(s) didn't have free ports for the requested pod ports"])
        }
        var reasons: [String] = []
        if n.requested.pods + 1 > n.allocatable.pods { reasons.append("Too many pods") }
        if r.requested.milliCPU > 0, r.requested.milliCPU > n.allocatable.milliCPU - n.requested.milliCPU { reasons.append("Insufficient cpu") }
        if r.requested.memory > 0, r.requested.memory > n.allocatable.memory - n.requested.memory { reasons.append("Insufficient memory") }
        if !reasons.isEmpty { return ("NodeResourcesFit", reasons) }
        return (nil, [])
    }

    static func matchesRequiredAffinity(_ pod: Pod, _ n: NodeInfo) -> Bool {
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

    // MARK: scores

    /// LeastAllocated over CPU and memory (weights 1 and 1), with the non-zero requests.
    static func leastAllocated(_ r: PodRequest, _ n: NodeInfo) -> Int64 {
        func score(_ requested: Int128, _ allocatable: Int128) -> Int64 {
            guard allocatable > 0, requested <= allocatable else { return 0 }
            return Int64((allocatable - requested) * Int128(maxScore) / allocatable)
        }
        let cpu = score(n.nonZeroRequested.milliCPU + r.nonZero.milliCPU, n.allocatable.milliCPU)
        let memory = score(n.nonZeroRequested.memory + r.nonZero.memory, n.allocatable.memory)
        return (cpu + memory) / 2
    }

    /// BalancedAllocation: 100 × (1 − the standard deviation of the CPU and memory fractions).
    static func balancedAllocation(_ r: PodRequest, _ n: NodeInfo) -> Int64 {
        func fraction(_ requested: Int128, _ allocatable: Int128) -> Double {
            allocatable > 0 ? min(1, Double(requested) / Double(allocatable)) : 0
        }
        let cpu = fraction(n.requested.milliCPU + r.requested.milliCPU, n.allocatable.milliCPU)
        let memory = fraction(n.requested.memory + r.requested.memory, n.allocatable.memory)
        let std = abs(cpu - memory) / 2
        return Int64((1 - std) * Double(maxScore))
    }

    /// How many PreferNoSchedule taints the pod does not tolerate.
    static func preferNoScheduleCount(_ tolerations: [Toleration], _ n: NodeInfo) -> Int64 {
        let relevant = tolerations.filter { ($0.effect ?? "").isEmpty || $0.effect == "PreferNoSchedule" }
        return Int64(n.taints.filter { t in
            t.effect == "PreferNoSchedule" && !relevant.contains { $0.tolerates(t) }
        }.count)
    }

    /// The sum of the weights of the preferred node-affinity terms the node matches.
    static func preferredAffinity(_ pod: Pod, _ n: NodeInfo) -> Int64 {
        let labels = n.labels
        return (pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
            .filter { matches($0.preference, labels: labels, name: n.name) }
            .reduce(0) { $0 + Int64($1.weight) }
    }

    /// ImageLocality: the sizes of the pod's images present on the node, each scaled by the share
    /// of nodes that have it, mapped from 23 MiB … 1000 MiB per container onto 0–100.
    static func imageLocality(_ r: PodRequest, _ n: NodeInfo, imageNodes: [String: Int], totalNodes: Int) -> Int64 {
        let mb: Int128 = 1024 * 1024
        let minThreshold = 23 * mb, maxThreshold = 1000 * mb * Int128(max(1, r.images.count))
        var sum: Int128 = 0
        for image in r.images {
            if let size = n.images[image] {
                // Image sizes come from node status (any Int64); the spread is at most 1.
                let spread = Double(imageNodes[image] ?? 0) / Double(max(1, totalNodes))
                sum += Int128(Double(max(0, size)) * spread)
            }
        }
        sum = min(max(sum, minThreshold), maxThreshold)
        return Int64(Int128(maxScore) * (sum - minThreshold) / (maxThreshold - minThreshold))
    }

    /// kube-scheduler's DefaultNormalizeScore.
    static func normalize(_ scores: [Int64], reverse: Bool) -> [Int64] {
        let maxCount = scores.max() ?? 0
        if maxCount == 0 { return scores.map { _ in reverse ? maxScore : 0 } }
        return scores.map { s in
            let v = maxScore * s / maxCount
            return reverse ? maxScore - v : v
        }
    }
}
