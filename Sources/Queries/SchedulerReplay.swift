import ClusterModel
import ControlPlane
import Journal
import Scheduler

/// Re-runs a recorded scheduling decision on the state it observed: the nodes and pods at its
/// `observed` revision, plus the pods the scheduler had bound since then and counted on their
/// nodes before seeing the bindings come back ("assumed", as kube-scheduler does).
public struct SchedulerReplay {
    public var pod: Pod
    public var nodes: [NodeInfo]
    public var seed: UInt64
    public var searchStart: Int

    public init(decision: Event, in view: JournalView) throws {
        guard decision.type == DecisionType.scheduling, let observed = decision.observed else {
            throw QueryError.invalid("revision \(decision.revision) is not a scheduling decision")
        }
        // Nodes and pods are all a scheduling decision reads (not the core Events, which can be most of a state).
        let state = try Projection.state(in: view, at: observed, only: [.node, .pod])
        guard let stored = state.object(decision.object.key), let pod = try stored.decode(in: view) as? Pod else {
            throw QueryError.invalid("the pod of decision \(decision.revision) is not in the state it observed (revision \(observed))")
        }
        var infos: [String: NodeInfo] = [:]
        for n in state.list(.node) {
            if let node = try n.decode(in: view) as? Node { infos[node.metadata.name ?? ""] = NodeInfo(node) }
        }
        var counted = Set<ObjectKey>()
        for p in state.list(.pod) where p.nodeName != nil {
            guard let other = try p.decode(in: view) as? Pod, !["Succeeded", "Failed"].contains(other.status?.phase ?? "") else { continue }
            infos[p.nodeName!]?.add(PodRequest(other))
            counted.insert(p.key)
        }
        if decision.revision > observed + 1 {
            try view.forEach(in: (observed + 1)...(decision.revision - 1)) { e in
                if e.type == WriteType.bound.rawValue, e.actor == SchedulerComponent.actor, !counted.contains(e.object.key),
                   let bound = try? ValueDecoder(strict: false).decode(Pod.self, from: JSONValue.parse(e.data)), let node = bound.spec.nodeName {
                    infos[node]?.add(PodRequest(bound))
                    counted.insert(e.object.key)
                }
                return true
            }
        }
        self.pod = pod
        self.nodes = infos.values.sorted { $0.name < $1.name }
        self.seed = try ClusterSeed.read(in: view)
        let data = try JSONValue.parse(decision.data)
        self.searchStart = Int(data["searchStart"]?.intValue ?? 0)
    }

    /// The decision as the scheduler made it: the same sample of nodes, from the same start.
    public func rerun() -> SchedulingResult {
        SchedulingAlgorithm.run(pod: pod, nodes: nodes, seed: seed, startIndex: nodes.isEmpty ? 0 : searchStart % nodes.count)
    }

    /// Every node's verdict and score, not just the sample's.
    public func everyNode() -> SchedulingResult {
        SchedulingAlgorithm.run(pod: pod, nodes: nodes, seed: seed, findAll: true)
    }


}
