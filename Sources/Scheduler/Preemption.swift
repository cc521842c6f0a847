import ClusterModel

/// What DefaultPreemption decided for a pod no node fits.
public struct PreemptionResult: Sendable, Equatable {
    /// The node the pod is nominated to, once the victims are gone (nil: preemption cannot help).
    public var node: String?
    /// The pods to delete on it, most important first.
    public var victims: [Victim]
    /// Why preemption did not help, as kube-scheduler appends it to the FitError
    /// (`preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.`).
    public var message: String?
    /// How many candidate nodes were found, and which nodes were tried first.
    public var candidates: Int

    /// A pod preemption removes.
    public struct Victim: Sendable, Equatable {
        public var namespace: String
        public var name: String
        public var priority: Int32
    }
}

/// kube-scheduler's DefaultPreemption (PostFilter): for a pod that fits nowhere, find nodes where
/// removing pods of lower priority would let it fit, keep as many of those pods as still allows it
/// (most important first), and pick the node whose victims matter least: lowest highest priority,
/// then lowest sum of priorities, then fewest victims, then the latest-started most important
/// victims. Deterministic: where kube-scheduler starts at a random node, the seed and the pod's uid
/// choose the start.
enum DefaultPreemption {
    static let noVictims = "No preemption victims found for incoming pod"
    static let notHelpful = "Preemption is not helpful for scheduling"
    /// kube-scheduler's `minCandidateNodesPercentage` and `minCandidateNodesAbsolute`.
    static let minCandidatePercentage = 10, minCandidateAbsolute = 100

    static func run(pod: Pod, cluster: ClusterSnapshot, profile: SchedulerProfile, verdicts: [NodeVerdict], seed: UInt64) -> PreemptionResult {
        if pod.spec.preemptionPolicy == "Never" {
            return PreemptionResult(node: nil, victims: [], message: "preemption: not eligible due to preemptionPolicy=Never.", candidates: 0)
        }
        let priority = pod.spec.priority ?? 0
        if let nominated = pod.status?.nominatedNodeName, !nominated.isEmpty,
           let node = cluster.nodes.first(where: { $0.name == nominated }),
           verdicts.first(where: { $0.node == nominated })?.resolvable != false,
           node.pods.values.contains(where: { $0.terminating && $0.priority < priority }) {
            return PreemptionResult(node: nil, victims: [], message: "preemption: not eligible due to a terminating pod on the nominated node.", candidates: 0)
        }
        let byName = Dictionary(uniqueKeysWithValues: cluster.nodes.enumerated().map { ($1.name, $0) })
        let potential = verdicts.filter { !$0.feasible && $0.resolvable }.compactMap { byName[$0.node] }.sorted()
        var statuses: [String: [String]] = [:]
        var candidates: [(node: NodeInfo, victims: [PodInfo])] = []
        if !potential.isEmpty {
            let wanted = min(potential.count, max(potential.count * minCandidatePercentage / 100, minCandidateAbsolute))
            let offset = Int(SchedulingAlgorithm.tieBreakIndex(seed: seed, uid: pod.metadata.uid ?? "", count: potential.count))
            for i in 0..<potential.count where candidates.count < wanted {
                let index = potential[(offset + i) % potential.count]
                switch selectVictims(pod, priority, on: index, cluster, profile) {
                case .success(let victims) where !victims.isEmpty: candidates.append((cluster.nodes[index], victims))
                case .success: break
                case .failure(let reasons): statuses[cluster.nodes[index].name] = reasons
                }
            }
        }
        guard let best = pick(candidates) else {
            var counts: [String: Int] = [:]
            for n in cluster.nodes { for r in statuses[n.name] ?? [notHelpful] { counts[r, default: 0] += 1 } }
            let parts = counts.map { "\($0.value) \($0.key)" }.sorted()
            return PreemptionResult(node: nil, victims: [], message: "preemption: 0/\(cluster.nodes.count) nodes are available: " + parts.joined(separator: ", ") + ".",
                                    candidates: 0)
        }
        return PreemptionResult(node: best.node.name, victims: best.victims.map { PreemptionResult.Victim(namespace: $0.namespace, name: $0.name, priority: $0.priority) },
                                message: nil, candidates: candidates.count)
    }

    enum Selection { case success([PodInfo]), failure([String]) }

    /// Removes every pod of lower priority from the node; if the pod then fits, gives back as many
    /// as it can, most important first (kube-scheduler's `SelectVictimsOnNode`, without PDBs).
    static func selectVictims(_ pod: Pod, _ priority: Int32, on index: Int, _ cluster: ClusterSnapshot, _ profile: SchedulerProfile) -> Selection {
        let node = cluster.nodes[index]
        let lower = node.pods.values.filter { $0.priority < priority }.sorted(by: moreImportant)
        guard !lower.isEmpty else { return .failure([noVictims]) }
        let trial = node.copy()
        for p in lower { trial.remove(p.key) }
        var nodes = cluster.nodes
        nodes[index] = trial
        trial.position = index
        var trialCluster = cluster
        trialCluster.nodes = nodes
        // The index describes the nodes as they are, not the trial without the victims.
        trialCluster.labels = nil
        if let rejection = SchedulingAlgorithm.rejection(of: pod, on: trial, in: trialCluster, profile: profile) { return .failure(rejection.reasons) }
        var victims: [PodInfo] = []
        for p in lower {
            trial.add(p)
            if SchedulingAlgorithm.rejection(of: pod, on: trial, in: trialCluster, profile: profile) != nil {
                trial.remove(p.key)
                victims.append(p)
            }
        }
        return .success(victims)
    }

    /// kube-scheduler's `MoreImportantPod`: higher priority, then started earlier.
    static func moreImportant(_ a: PodInfo, _ b: PodInfo) -> Bool {
        if a.priority != b.priority { return a.priority > b.priority }
        if a.startTime != b.startTime { return (a.startTime ?? "~") < (b.startTime ?? "~") }
        return a.key < b.key
    }

    /// kube-scheduler's `pickOneNodeForPreemption` (no PDBs, so no violations to compare).
    static func pick(_ candidates: [(node: NodeInfo, victims: [PodInfo])]) -> (node: NodeInfo, victims: [PodInfo])? {
        var left = candidates
        let rules: [((node: NodeInfo, victims: [PodInfo])) -> Int64] = [
            { -Int64($0.victims.first?.priority ?? Int32.min) },
            { -$0.victims.reduce(Int64(0)) { $0 + Int64($1.priority) + Int64(Int32.max) + 1 } },
            { -Int64($0.victims.count) },
        ]
        for rule in rules where left.count > 1 {
            let best = left.map(rule).max()!
            left = left.filter { rule($0) == best }
        }
        if left.count > 1 {
            // The latest-started among each node's most important victims wins (never-started counts as now).
            func earliest(_ c: (node: NodeInfo, victims: [PodInfo])) -> String {
                let top = c.victims.first?.priority
                return c.victims.filter { $0.priority == top }.map { $0.startTime ?? "~" }.min() ?? ""
            }
            let latest = left.map(earliest).max()!
            left = left.filter { earliest($0) == latest }
        }
        return left.first
    }
}
