import ClusterModel
import ControlPlane
import Journal

/// kube-controller-manager's disruption controller: keeps each PodDisruptionBudget's status —
/// the pods it expects, how many must stay healthy, how many are, and so how many disruptions
/// (evictions) it allows now. A pod the Eviction API just charged to the budget (`disruptedPods`)
/// does not count as healthy until it is gone or two minutes have passed.
public final class DisruptionController: Reconciler {
    /// How long an eviction's charge stands without the pod going (`DeletionTimeout`).
    static let deletionTimeoutSeconds: Int64 = 120

    public init() { super.init(name: "disruption") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        guard WriteType(rawValue: event.type) != nil else { return }
        let key = event.object.key
        switch event.object.kind {
        case PodDisruptionBudget.kind:
            markDirty(key, event.revision)
        case Pod.kind, ReplicaSet.kind, Deployment.kind, StatefulSet.kind:
            // Pods come and go, and the controllers' scale sets what a budget expects.
            for pdb in cache.list(PodDisruptionBudget.self, namespace: key.namespace) { markDirty(pdb.objectKey, event.revision) }
        default:
            break
        }
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard let pdb = context.cache.get(PodDisruptionBudget.self, namespace: key.namespace, name: key.name),
              pdb.metadata.deletionTimestamp == nil, let spec = pdb.spec else { return false }
        let selector = spec.selector.map(LabelSelectorExpression.init)
        let pods = context.cache.list(Pod.self, namespace: key.namespace).filter { p in
            selector.map { $0.matches(p.metadata.labels ?? [:]) } ?? false
        }
        let now = context.now
        // Charges of evictions whose pod is gone, or older than the deletion timeout, lapse.
        var disrupted = pdb.status?.disruptedPods ?? [:]
        for (name, at) in disrupted {
            let since = Timestamp(rfc3339: at) ?? now
            if !pods.contains(where: { $0.metadata.name == name && $0.metadata.deletionTimestamp == nil })
                || since.adding(seconds: Self.deletionTimeoutSeconds) <= now {
                disrupted[name] = nil
            }
        }
        if let next = disrupted.values.compactMap({ Timestamp(rfc3339: $0) }).min() {
            requeue(key, at: next.adding(seconds: Self.deletionTimeoutSeconds), trigger: trigger)
        }
        let (expected, desired) = Self.expectation(spec, pods, context.cache)
        let healthy = pods.filter { $0.metadata.deletionTimestamp == nil && $0.isReady && disrupted[$0.metadata.name ?? ""] == nil }.count
        let allowed = max(0, healthy - desired)
        var status = pdb.status ?? PodDisruptionBudgetStatus()
        status.observedGeneration = pdb.metadata.generation
        status.expectedPods = Int32(clamping: expected)
        status.desiredHealthy = Int32(clamping: desired)
        status.currentHealthy = Int32(clamping: healthy)
        status.disruptionsAllowed = Int32(clamping: allowed)
        status.disruptedPods = disrupted.isEmpty ? nil : disrupted
        let condition = allowed > 0 ? ("True", "SufficientPods") : ("False", "InsufficientPods")
        let old = status.conditions?.arrayValue?.first { $0["type"] == "DisruptionAllowed" }
        let changed = old?["status"]?.stringValue != condition.0
        status.conditions = [[
            "type": "DisruptionAllowed", "status": .string(condition.0), "reason": .string(condition.1), "message": "",
            "observedGeneration": .int(pdb.metadata.generation ?? 1),
            "lastTransitionTime": changed ? .string(now.kubernetesTime) : (old?["lastTransitionTime"] ?? .string(now.kubernetesTime)),
        ]]
        guard status != pdb.status else { return false }
        let origin = try await decide(context, about: pdb.objectRef, trigger: trigger, .one("update-status")) {
            $0.reason = "\(healthy) healthy of \(expected) expected pod(s), \(desired) must stay: \(allowed) disruption(s) allowed"
        }
        var updated = pdb
        updated.status = status
        updated.metadata.resourceVersion = nil
        _ = try await context.store.updateStatus(updated, by: origin)
        return true
    }

    /// The pods a budget expects and how many of them must stay healthy: `minAvailable` as a number
    /// counts the matching pods; a percentage or `maxUnavailable` is taken of the scale of the pods'
    /// controllers (a ReplicaSet's Deployment, a StatefulSet), as kube-controller-manager does.
    static func expectation(_ spec: PodDisruptionBudgetSpec, _ pods: [Pod], _ cache: ObjectCache) -> (expected: Int, desired: Int) {
        func scale() -> Int {
            var seen: Set<String> = []
            var total = 0
            for p in pods {
                guard let ref = p.metadata.controllerReference else { total += 1; continue }
                guard seen.insert(ref.uid).inserted else { continue }
                let ns = p.metadata.namespace ?? "default"
                switch ref.kind {
                case ReplicaSet.kind:
                    let rs = cache.get(ReplicaSet.self, namespace: ns, name: ref.name)
                    if let owner = rs?.metadata.controllerReference, owner.kind == Deployment.kind,
                       let d = cache.get(Deployment.self, namespace: ns, name: owner.name) {
                        if seen.insert(owner.uid).inserted { total += Int(d.spec.replicas ?? 1) }
                    } else {
                        total += Int(rs?.spec.replicas ?? 1)
                    }
                case StatefulSet.kind:
                    total += Int(cache.get(StatefulSet.self, namespace: ns, name: ref.name)?.spec.replicas ?? 1)
                default:
                    total += 1
                }
            }
            return total
        }
        if let maxUnavailable = spec.maxUnavailable {
            let expected = scale()
            return (expected, max(0, expected - (maxUnavailable.scaled(total: expected, roundUp: true) ?? 0)))
        }
        switch spec.minAvailable {
        case .int(let n): return (pods.count, Int(n))
        case .string(let percent):
            let expected = scale()
            return (expected, IntOrString.string(percent).scaled(total: expected, roundUp: true) ?? 0)
        case nil: return (pods.count, 0)
        }
    }
}
