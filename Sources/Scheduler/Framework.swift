import ClusterModel

/// kube-scheduler's plugin names, defined once for the scheduler, its decisions and `kj why`.
public enum PluginName {
    public static let nodeUnschedulable = "NodeUnschedulable"
    public static let nodeName = "NodeName"
    public static let taintToleration = "TaintToleration"
    public static let nodeAffinity = "NodeAffinity"
    public static let nodePorts = "NodePorts"
    public static let nodeResourcesFit = "NodeResourcesFit"
    public static let volumeBinding = "VolumeBinding"
    public static let podTopologySpread = "PodTopologySpread"
    public static let interPodAffinity = "InterPodAffinity"
    public static let nodeResourcesBalancedAllocation = "NodeResourcesBalancedAllocation"
    public static let imageLocality = "ImageLocality"
    public static let defaultPreemption = "DefaultPreemption"
}

/// A filter's verdict on a node that does not fit: kube-scheduler's `Unschedulable` (another
/// placement of other pods might make it fit, so preemption may help) or
/// `UnschedulableAndUnresolvable` (nothing preemption does can help).
public struct Rejection: Sendable, Equatable {
    public var plugin: String
    /// In kube-scheduler's words (`Insufficient cpu`).
    public var reasons: [String]
    public var resolvable: Bool

    public init(_ plugin: String, _ reasons: [String], resolvable: Bool = true) {
        self.plugin = plugin
        self.reasons = reasons
        self.resolvable = resolvable
    }
}

/// What the plugins of one scheduling attempt share: the pod, what it asks for, the cluster as the
/// scheduler sees it, and each plugin's precomputed state (kube-scheduler's `CycleState`, typed).
/// A class so that the thousands of filter and score calls of an attempt share it instead of
/// copying it; it lives and dies within one attempt on one task.
public final class SchedulingCycle {
    public let pod: Pod
    public let request: PodRequest
    public let cluster: ClusterSnapshot
    /// The pod's tolerations.
    public let tolerations: [Toleration]
    /// The pod's affinity and anti-affinity terms, resolved once for the attempt (nil: none).
    let podTerms: PodAffinityTerms?
    /// The selector of the Services and ReplicaSet that select the pod (PodTopologySpread's
    /// default constraints), worked out once for PreFilter and PreScore.
    lazy var defaultSelector: LabelSelectorExpression = cluster.workloads.defaultSelector(for: pod)
    var spread: TopologySpreadState?
    var spreadScore: TopologySpreadScoreState?
    var podAffinity: PodAffinityState?
    var podAffinityScore: PodAffinityScoreState?

    init(pod: Pod, cluster: ClusterSnapshot) {
        self.pod = pod
        self.request = PodRequest(pod)
        self.cluster = cluster
        self.tolerations = pod.spec.tolerations ?? []
        self.podTerms = PodAffinityTerms(pod)
    }
}

/// A plugin at kube-scheduler's filtering extension points: `preFilter` once per attempt (it may
/// reject the pod outright, for every node), then `filter` for each node searched.
protocol FilterPlugin: Sendable {
    var name: String { get }
    /// Computes the plugin's state for the attempt; a rejection here applies to every node.
    func preFilter(_ cycle: SchedulingCycle) -> Rejection?
    /// Nil if `node` passes.
    func filter(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Rejection?
}

extension FilterPlugin {
    func preFilter(_ cycle: SchedulingCycle) -> Rejection? { nil }
}

/// A plugin at the scoring extension points: `preScore` once over the feasible nodes, `score` per
/// node, then `normalize` across them to 0–100 (`NormalizeScore`).
protocol ScorePlugin: Sendable {
    var name: String { get }
    func preScore(_ cycle: SchedulingCycle, feasible: [NodeInfo])
    func score(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Int64
    func normalize(_ cycle: SchedulingCycle, _ scores: [Int64], feasible: [NodeInfo]) -> [Int64]
}

extension ScorePlugin {
    func preScore(_ cycle: SchedulingCycle, feasible: [NodeInfo]) {}
    func normalize(_ cycle: SchedulingCycle, _ scores: [Int64], feasible: [NodeInfo]) -> [Int64] { scores }
}

/// The largest score a plugin gives after normalisation (kube-scheduler's `MaxNodeScore`).
let maxNodeScore: Int64 = 100

/// kube-scheduler's `DefaultNormalizeScore`: scales the scores so the largest is 100 (reversed:
/// the largest is 0); all zero gives 0 (reversed: 100).
func defaultNormalize(_ scores: [Int64], reverse: Bool) -> [Int64] {
    let largest = scores.max() ?? 0
    if largest == 0 { return scores.map { _ in reverse ? maxNodeScore : 0 } }
    return scores.map { s in
        let v = maxNodeScore * s / largest
        return reverse ? maxNodeScore - v : v
    }
}
