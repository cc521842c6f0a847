import ClusterModel
import ControlPlane
import Journal
import Scheduler

/// Re-runs a recorded scheduling decision on the state it observed: the nodes, pods, namespaces,
/// Services and ReplicaSets at its `observed` revision, plus the pods the scheduler had bound since
/// then and counted on their nodes before seeing the bindings come back ("assumed", as
/// kube-scheduler does), with the profile the decision names.
public struct SchedulerReplay {
    public var pod: Pod
    public var cluster: ClusterSnapshot
    public var profile: SchedulerProfile
    public var seed: UInt64
    public var searchStart: Int

    public var nodes: [NodeInfo] { cluster.nodes }

    public init(decision: Event, in view: JournalView) throws {
        guard decision.type == DecisionType.scheduling, let observed = decision.observed else {
            throw QueryError.invalid("revision \(decision.revision) is not a scheduling decision")
        }
        let (cluster, state) = try Self.cluster(in: view, at: observed)
        guard let stored = state.object(decision.object.key), let pod = try stored.decode(in: view) as? Pod else {
            throw QueryError.invalid("the pod of decision \(decision.revision) is not in the state it observed (revision \(observed))")
        }
        var counted = Set(state.list(.pod).filter { $0.nodeName != nil }.map(\.key))
        if decision.revision > observed + 1 {
            let byName = Dictionary(uniqueKeysWithValues: cluster.nodes.map { ($0.name, $0) })
            try view.forEach(in: (observed + 1)...(decision.revision - 1)) { e in
                if e.type == WriteType.bound.rawValue, e.actor == SchedulerComponent.actor, !counted.contains(e.object.key),
                   let bound = try? ValueDecoder(strict: false).decode(Pod.self, from: JSONValue.parse(e.data)), let node = bound.spec.nodeName {
                    byName[node]?.add(PodInfo(bound))
                    counted.insert(e.object.key)
                }
                return true
            }
        }
        guard let data = SchedulingDecision.from(decision) else { throw QueryError.invalid("revision \(decision.revision) is not a scheduling decision kj can read") }
        self.pod = pod
        self.cluster = cluster
        self.profile = try SchedulerConfigurations.profile(named: data.profile, digest: data.profileDigest, before: decision.revision, in: view)
        self.seed = try ClusterSeed.read(in: view)
        self.searchStart = Int(data.searchStart ?? 0)
    }

    /// What KubeJournal's scheduler, with kube-scheduler's default profile, makes of the pod a
    /// `Bound` event binds, on the state just before it: for journals whose decisions were not
    /// KubeJournal's (imported from audit logs), a recomputation rather than a re-run.
    public init(binding: Event, in view: JournalView) throws {
        guard binding.type == WriteType.bound.rawValue, binding.revision > 1 else {
            throw QueryError.invalid("revision \(binding.revision) is not a binding")
        }
        let (cluster, state) = try Self.cluster(in: view, at: binding.revision - 1)
        guard let stored = state.object(binding.object.key), let pod = try stored.decode(in: view) as? Pod else {
            throw QueryError.invalid("the pod bound at revision \(binding.revision) is not in the state before it")
        }
        self.pod = pod
        self.cluster = cluster
        profile = .kubeDefault
        seed = try ClusterSeed.read(in: view)
        searchStart = 0
    }

    /// The cluster as the scheduler sees it at `revision` (nodes with their non-terminal pods,
    /// namespaces' labels, Services' and ReplicaSets' selectors), and the state it came from.
    public static func cluster(in view: JournalView, at revision: UInt64) throws -> (ClusterSnapshot, ClusterState) {
        let state = try Projection.state(in: view, at: revision, only: [.node, .pod, .namespace, .service, .replicaSet, .persistentVolumeClaim,
                                                                         .persistentVolume, .storageClass])
        var infos: [String: NodeInfo] = [:]
        for n in state.list(.node) {
            if let node = try n.decode(in: view) as? Node { infos[node.metadata.name ?? ""] = NodeInfo(node) }
        }
        var nominated: [String: [PodInfo]] = [:]
        for p in state.list(.pod) {
            guard let other = try p.decode(in: view) as? Pod, !["Succeeded", "Failed"].contains(other.status?.phase ?? "") else { continue }
            if let node = p.nodeName {
                infos[node]?.add(PodInfo(other))
            } else if let node = other.status?.nominatedNodeName, !node.isEmpty {
                nominated[node, default: []].append(PodInfo(other))
            }
        }
        var namespaceLabels: [String: [String: String]] = [:]
        for n in state.list(.namespace) {
            if let ns = try n.decode(in: view) as? Namespace { namespaceLabels[ns.metadata.name ?? ""] = ns.metadata.labels }
        }
        var workloads = WorkloadSelectors()
        for s in state.list(.service) {
            if let svc = try s.decode(in: view) as? Service {
                workloads.setService(namespace: s.key.namespace, name: s.key.name, selector: svc.spec?.selector)
            }
        }
        for r in state.list(.replicaSet) {
            if let rs = try r.decode(in: view) as? ReplicaSet {
                workloads.setReplicaSet(namespace: r.key.namespace, name: r.key.name, selector: LabelSelectorExpression(rs.spec.selector))
            }
        }
        var volumes = VolumeFacts()
        for c in state.list(.persistentVolumeClaim) {
            volumes.set(claim: try c.decode(in: view) as? PersistentVolumeClaim, namespace: c.key.namespace, name: c.key.name)
        }
        for v in state.list(.persistentVolume) { volumes.set(volume: try v.decode(in: view) as? PersistentVolume, name: v.key.name) }
        for s in state.list(.storageClass) { volumes.set(storageClass: try s.decode(in: view) as? StorageClass, name: s.key.name) }
        let cluster = ClusterSnapshot(nodes: infos.values.sorted { $0.name < $1.name }, namespaceLabels: namespaceLabels, workloads: workloads,
                                      nominated: nominated, volumes: volumes)
        return (cluster, state)
    }

    /// The decision as the scheduler made it: the same sample of nodes, from the same start.
    public func rerun() -> SchedulingResult {
        SchedulingAlgorithm.run(pod: pod, cluster: cluster, profile: profile, seed: seed, startIndex: nodes.isEmpty ? 0 : searchStart % nodes.count)
    }

    /// Every node's verdict and score, not just the sample's.
    public func everyNode() -> SchedulingResult {
        SchedulingAlgorithm.run(pod: pod, cluster: cluster, profile: profile, seed: seed, findAll: true)
    }
}
