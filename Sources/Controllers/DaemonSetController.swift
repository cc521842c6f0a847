import ClusterModel
import ControlPlane
import Journal
import Scheduler

/// kube-controller-manager's DaemonSet controller: one pod on every node the template may run on
/// (its node selector and required affinity, and the taints it tolerates with the tolerations every
/// daemon pod gets), placed by the scheduler through a required node affinity naming the node.
/// Pods on nodes that no longer qualify, and surplus pods, are deleted; a node that joins gets its
/// pod. A changed template rolls out per `updateStrategy`: `RollingUpdate` replaces old pods while
/// at most `maxUnavailable` nodes lack an available pod, `OnDelete` waits for them to be deleted.
public final class DaemonSetController: Reconciler {
    /// The label with the template generation a pod was made from.
    public static let generationLabel = "pod-template-generation"

    /// The tolerations every daemon pod gets (`AddOrUpdateDaemonPodTolerations`).
    static let daemonTolerations: [Toleration] = [
        Toleration(key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute"),
        Toleration(key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute"),
        Toleration(key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule"),
        Toleration(key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule"),
        Toleration(key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule"),
        Toleration(key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule"),
    ]

    /// The DaemonSet of each pod seen.
    private var pods = OwnedObjects(ownerKind: DaemonSet.kind)

    public init() { super.init(name: "daemonset") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        guard WriteType(rawValue: event.type) != nil else { return }
        let key = event.object.key
        switch event.object.kind {
        case DaemonSet.kind:
            markDirty(key, event.revision)
        case Node.kind:
            // Labels, taints, readiness: any node change may change where daemons run.
            for ds in cache.list(DaemonSet.self) { markDirty(ds.objectKey, event.revision) }
        case Pod.kind:
            if let ds = pods.owner(of: event, in: cache) { markDirty(ds, event.revision) }
        default:
            break
        }
    }

    /// The pod the DaemonSet makes for `node`: its template, the daemon tolerations, and a
    /// required affinity to that node alone (`ReplaceDaemonSetPodNodeNameNodeAffinity`).
    static func pod(for ds: DaemonSet, node: String) -> Pod {
        var spec = ds.spec.template.spec
        var tolerations = spec.tolerations ?? []
        for t in daemonTolerations where !tolerations.contains(where: { $0.key == t.key && $0.effect == t.effect }) { tolerations.append(t) }
        if spec.hostNetwork == true, !tolerations.contains(where: { $0.key == "node.kubernetes.io/network-unavailable" }) {
            tolerations.append(Toleration(key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule"))
        }
        spec.tolerations = tolerations
        var affinity = spec.affinity ?? Affinity()
        var nodeAffinity = affinity.nodeAffinity ?? NodeAffinity()
        nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = NodeSelector(nodeSelectorTerms: [
            NodeSelectorTerm(matchFields: [NodeSelectorRequirement(key: "metadata.name", operator: "In", values: [node])]),
        ])
        affinity.nodeAffinity = nodeAffinity
        spec.affinity = affinity
        var meta = ds.spec.template.metadata ?? ObjectMeta()
        meta.name = nil
        meta.generateName = "\(ds.metadata.name ?? "")-"
        meta.namespace = ds.metadata.namespace
        meta.labels = (meta.labels ?? [:]).merging([generationLabel: String(ds.metadata.generation ?? 1)]) { _, new in new }
        meta.ownerReferences = [OwnerReference(apiVersion: DaemonSet.apiVersion, kind: DaemonSet.kind, name: ds.metadata.name ?? "",
                                               uid: ds.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)]
        return Pod(metadata: meta, spec: spec)
    }

    /// The node a daemon pod is on, or is meant for while it waits for the scheduler.
    static func node(of pod: Pod) -> String? {
        pod.spec.nodeName ?? pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms.first?
            .matchFields?.first { $0.key == "metadata.name" }?.values?.first
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard let ds = context.cache.get(DaemonSet.self, namespace: key.namespace, name: key.name), ds.metadata.deletionTimestamp == nil,
              let uid = ds.metadata.uid else { return false }
        let generation = String(ds.metadata.generation ?? 1)
        let nodes = context.cache.list(Node.self)
        let pods = context.cache.list(Pod.self, namespace: key.namespace).filter {
            $0.metadata.controllerReference?.uid == uid && $0.metadata.deletionTimestamp == nil && !["Succeeded", "Failed"].contains($0.status?.phase ?? "")
        }
        let byNode = Dictionary(grouping: pods) { Self.node(of: $0) ?? "" }
        var creates: [String] = [], doomed: [Pod] = []
        var eligible: [String] = []
        for node in nodes {
            let name = node.metadata.name ?? ""
            let template = Self.pod(for: ds, node: name)
            let here = (byNode[name] ?? []).sorted { ($0.metadata.creationTimestamp ?? "", $0.metadata.name ?? "") < ($1.metadata.creationTimestamp ?? "", $1.metadata.name ?? "") }
            if NodeEligibility.mayPlace(template, on: node) {
                eligible.append(name)
                if here.isEmpty { creates.append(name) } else { doomed += here.dropFirst() }
            } else if !here.isEmpty, !NodeEligibility.mayStay(template, on: node) || here.allSatisfy({ $0.spec.nodeName == nil }) {
                doomed += here
            }
        }
        let known = Set(nodes.compactMap(\.metadata.name))
        for (node, stray) in byNode where !known.contains(node) { doomed += stray }

        // A changed template rolls out: old pods go while few enough nodes lack an available pod.
        let current = pods.filter { !doomed.contains($0) }
        let old = current.filter { $0.metadata.labels?[Self.generationLabel] != generation }
        let available = Set(current.filter(\.isReady).compactMap { Self.node(of: $0) })
        let unavailable = eligible.filter { !available.contains($0) }.count
        if ds.spec.updateStrategy?.type ?? "RollingUpdate" == "RollingUpdate", !old.isEmpty {
            let maxUnavailable = ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable?.scaled(total: eligible.count, roundUp: true) ?? 1
            // Old pods that are not available cost nothing to replace; then as many as the budget allows.
            let ordered = old.sorted { (a, b) in
                (a.isReady ? 1 : 0, Self.node(of: a) ?? "") < (b.isReady ? 1 : 0, Self.node(of: b) ?? "")
            }
            var budget = max(0, max(1, maxUnavailable) - unavailable)
            for p in ordered {
                if !p.isReady { doomed.append(p); continue }
                guard budget > 0 else { break }
                doomed.append(p)
                budget -= 1
            }
        }

        var status = ds.status ?? DaemonSetStatus()
        let scheduled = Set(pods.compactMap { $0.spec.nodeName })
        status.desiredNumberScheduled = Int32(eligible.count)
        status.currentNumberScheduled = Int32(eligible.filter(scheduled.contains).count)
        status.numberMisscheduled = Int32(scheduled.filter { !eligible.contains($0) }.count)
        status.numberReady = Int32(current.filter(\.isReady).count)
        status.numberAvailable = status.numberReady
        status.numberUnavailable = Int32(unavailable)
        status.updatedNumberScheduled = Int32(current.filter { $0.metadata.labels?[Self.generationLabel] == generation && $0.spec.nodeName != nil }.count)
        status.observedGeneration = ds.metadata.generation
        guard !creates.isEmpty || !doomed.isEmpty || status != ds.status else { return false }

        var steps: [String] = []
        if !creates.isEmpty { steps.append("create \(creates.count) pod(s) for \(creates.joined(separator: ", "))") }
        if !doomed.isEmpty { steps.append("delete \(doomed.compactMap(\.metadata.name).joined(separator: ", "))") }
        let origin = try await decide(context, about: ds.objectRef, trigger: trigger, steps.isEmpty ? .one("update-status") : steps.count == 1 ? .one(steps[0]) : .steps(steps)) {
            $0.observed = .init(replicas: Int64(pods.count), ready: Int64(status.numberReady ?? 0))
            $0.desired = Int64(eligible.count)
            $0.reason = "\(eligible.count) of \(nodes.count) node(s) eligible, \(pods.count) daemon pod(s)" + (old.isEmpty ? "" : ", \(old.count) of an older template")
        }
        for node in creates {
            try Task.checkCancellation()
            guard try await createPod(Self.pod(for: ds, node: node), for: ds, key: key, component: "daemonset-controller", origin, context) else { break }
        }
        for pod in doomed { try await deletePod(pod, of: ds, component: "daemonset-controller", origin, context) }
        if status != ds.status {
            var updated = ds
            updated.status = status
            updated.metadata.resourceVersion = nil
            _ = try await context.store.updateStatus(updated, by: origin)
        }
        return true
    }
}
