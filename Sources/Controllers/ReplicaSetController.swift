import ClusterModel
import ControlPlane
import Journal

/// Keeps each ReplicaSet's number of active pods at `spec.replicas`: creates pods from the
/// template, deletes the surplus in Kubernetes' order (unscheduled, pending, not ready, most
/// restarts, newest first), and replaces pods that are deleted or finish.
public final class ReplicaSetController: Reconciler {
    public init() { super.init(name: "replicaset") }

    /// Per ReplicaSet uid, the keys of its active pods, of those that are ready, and of those whose
    /// labels match its selector — kept from the events, so a reconcile need not scan every pod.
    private var active: [String: Set<ObjectKey>] = [:]
    private var ready: [String: Set<ObjectKey>] = [:]
    private var labeled: [String: Set<ObjectKey>] = [:]
    private var owners: [ObjectKey: (uid: String, name: String)] = [:]

    public override func observe(_ event: Event, cache: ObjectCache) {
        switch event.object.kind {
        case ReplicaSet.kind:
            // Writes only, as for Deployments: a decision must not bring the ReplicaSet back at once.
            if WriteType(rawValue: event.type) != nil { markDirty(event.object.key, event.revision) }
        case Pod.kind:
            let key = event.object.key
            let pod = cache.get(Pod.self, namespace: key.namespace, name: key.name)
            if let old = owners.removeValue(forKey: key) {
                active[old.uid]?.remove(key)
                ready[old.uid]?.remove(key)
                labeled[old.uid]?.remove(key)
                markDirty(ObjectKey(kind: ReplicaSet.kind, namespace: key.namespace, name: old.name), event.revision)
            }
            guard let pod, let owner = pod.metadata.controllerReference, owner.kind == ReplicaSet.kind else { return }
            owners[key] = (owner.uid, owner.name)
            if pod.isActive {
                active[owner.uid, default: []].insert(key)
                if pod.isReady { ready[owner.uid, default: []].insert(key) }
                let rs = cache.get(ReplicaSet.self, namespace: key.namespace, name: owner.name)
                if let rs, LabelSelectorExpression(rs.spec.selector).matches(pod.metadata.labels ?? [:]) {
                    labeled[owner.uid, default: []].insert(key)
                }
            }
            markDirty(ObjectKey(kind: ReplicaSet.kind, namespace: key.namespace, name: owner.name), event.revision)
        default:
            break
        }
    }

    /// ReplicaSets with pods to delete go first, so a rollout never runs more pods than maxSurge allows.
    override func urgency(_ key: ObjectKey, _ cache: ObjectCache) -> Int {
        guard let rs = cache.get(ReplicaSet.self, namespace: key.namespace, name: key.name), let uid = rs.metadata.uid else { return 1 }
        return (active[uid]?.count ?? 0) > Int(rs.spec.replicas ?? 1) ? 0 : 1
    }

    /// Pods created or deleted for one ReplicaSet in one reconcile (kube-controller-manager's
    /// `BurstReplicas`).
    static let burstReplicas = 500

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard let rs = context.cache.get(ReplicaSet.self, namespace: key.namespace, name: key.name),
              rs.metadata.deletionTimestamp == nil, let template = rs.spec.template, let uid = rs.metadata.uid
        else { return false }
        let activeKeys = active[uid] ?? []
        let desired = Int(rs.spec.replicas ?? 1)
        let diff = desired - activeKeys.count
        var status = ReplicaSetStatus(replicas: Int32(activeKeys.count))
        status.fullyLabeledReplicas = Int32(labeled[uid]?.count ?? 0)
        status.readyReplicas = Int32(ready[uid]?.count ?? 0)
        let minReady = rs.spec.minReadySeconds ?? 0
        let readyPods = minReady > 0 ? (ready[uid] ?? []).sorted().compactMap { context.cache.get($0) as? Pod } : []
        status.availableReplicas = minReady > 0
            ? Int32(readyPods.filter { $0.isAvailable(minReadySeconds: minReady, now: context.now) }.count) : status.readyReplicas
        status.observedGeneration = rs.metadata.generation
        guard diff != 0 || status != rs.status else { return false }

        var doomed: [Pod] = []
        // At most `burstReplicas` pods per reconcile, as kube-controller-manager; the pods' own
        // events bring the ReplicaSet back for the rest.
        let creates = min(diff, Self.burstReplicas)
        let action: String
        if diff > 0 {
            action = "create"
        } else if diff < 0 {
            let pods = activeKeys.sorted().compactMap { context.cache.get($0) as? Pod }
            doomed = Array(Self.deletionOrder(pods).prefix(min(-diff, Self.burstReplicas)))
            action = "delete"
        } else {
            action = "update-status"
        }
        let origin = try await decide(context, about: rs.objectRef, trigger: trigger, .one(action)) { [doomed] in
            $0.observed = .init(replicas: Int64(activeKeys.count), ready: Int64(status.readyReplicas ?? 0))
            $0.desired = Int64(desired)
            $0.reason = diff == 0 ? "status differs from the pods" : "\(activeKeys.count) active pod(s), \(desired) wanted"
            if diff > 0 { $0.count = Int64(creates) }
            if diff < 0 { $0.pods = doomed.map { $0.metadata.name ?? "" } }
        }
        if diff > 0 {
            for _ in 0..<creates {
                try Task.checkCancellation()
                var meta = template.metadata ?? ObjectMeta()
                meta.name = nil
                meta.generateName = "\(key.name)-"
                meta.namespace = key.namespace
                meta.ownerReferences = [OwnerReference(
                    apiVersion: ReplicaSet.apiVersion, kind: ReplicaSet.kind, name: key.name, uid: uid,
                    controller: true, blockOwnerDeletion: true)]
                guard try await createPod(Pod(metadata: meta, spec: template.spec), for: rs, key: key, component: "replicaset-controller", origin, context) else { break }
            }
        }
        for pod in doomed { try await deletePod(pod, of: rs, component: "replicaset-controller", origin, context) }
        if status != rs.status {
            var updated = rs
            updated.status = status
            _ = try await context.store.updateStatus(updated, by: origin)
        }
        if let wait = Self.nextAvailability(readyPods, minReadySeconds: minReady, now: context.now) { requeue(key, at: wait, trigger: trigger) }
        return true
    }

    /// When a ready pod will have been ready for `minReadySeconds`, if one is waiting for it.
    static func nextAvailability(_ pods: [Pod], minReadySeconds: Int32, now: Timestamp) -> Timestamp? {
        guard minReadySeconds > 0 else { return nil }
        return pods.compactMap { p -> Timestamp? in
            guard p.isReady, let since = p.condition("Ready")?.lastTransitionTime.flatMap({ Timestamp(rfc3339: $0) }) else { return nil }
            let at = since.adding(seconds: Int64(minReadySeconds))
            return at > now ? at : nil
        }.min()
    }

    /// Kubernetes' order for scaling down: the pods least worth keeping first.
    static func deletionOrder(_ pods: [Pod]) -> [Pod] {
        func phaseRank(_ p: Pod) -> Int {
            switch p.status?.phase { case "Pending": 0; case "Unknown": 1; case "Running": 2; default: 0 }
        }
        func restarts(_ p: Pod) -> Int64 { p.status?.containerStatuses?.reduce(0) { $0 + Int64($1.restartCount) } ?? 0 }
        func readySince(_ p: Pod) -> String { p.condition("Ready")?.lastTransitionTime ?? "" }
        return pods.sorted { a, b in
            let aAssigned = a.spec.nodeName != nil, bAssigned = b.spec.nodeName != nil
            if aAssigned != bAssigned { return !aAssigned }
            if phaseRank(a) != phaseRank(b) { return phaseRank(a) < phaseRank(b) }
            if a.isReady != b.isReady { return !a.isReady }
            if a.isReady, readySince(a) != readySince(b) { return readySince(a) > readySince(b) }
            if restarts(a) != restarts(b) { return restarts(a) > restarts(b) }
            let ca = a.metadata.creationTimestamp ?? "", cb = b.metadata.creationTimestamp ?? ""
            if ca != cb { return ca > cb }
            return (a.metadata.name ?? "") > (b.metadata.name ?? "")
        }
    }
}
