import ClusterModel

/// Whether a pod may run on a node, by the node's labels and taints alone — the predicates
/// kube-controller-manager's DaemonSet controller borrows from the scheduler (node selector and
/// required node affinity, `NodeAffinity`; taints, `TaintToleration`).
public enum NodeEligibility {
    /// Whether `pod` may be placed on `node`: its selector and required affinity match, and it
    /// tolerates every `NoSchedule` and `NoExecute` taint.
    public static func mayPlace(_ pod: Pod, on node: Node) -> Bool {
        NodeAffinityPlugin.matchesRequired(pod, NodeInfo(node)) && tolerates(pod, node, effects: ["NoSchedule", "NoExecute"])
    }

    /// Whether `pod`, already on `node`, may stay: its selector and required affinity still match
    /// and it tolerates every `NoExecute` taint.
    public static func mayStay(_ pod: Pod, on node: Node) -> Bool {
        NodeAffinityPlugin.matchesRequired(pod, NodeInfo(node)) && tolerates(pod, node, effects: ["NoExecute"])
    }

    static func tolerates(_ pod: Pod, _ node: Node, effects: Set<String>) -> Bool {
        let tolerations = pod.spec.tolerations ?? []
        return (node.spec?.taints ?? []).allSatisfy { t in !effects.contains(t.effect) || tolerations.contains { $0.tolerates(t) } }
    }
}
