import ClusterModel
import Journal

/// The Eviction subresource (kube-apiserver's `pods/eviction`): a deletion that honours the pod's
/// PodDisruptionBudget. With a budget that allows a disruption, the budget's status is charged
/// first (one disruption fewer, the pod in `disruptedPods`), then the pod is marked
/// `DisruptionTarget` and deleted gracefully — both caused by the budget's update, so `kj why` on a
/// replacement pod leads through the deletion to the eviction and the budget. With a budget that
/// allows none, the request is refused with 429 and Kubernetes' message, and nothing is written.
extension Store {
    /// Evicts `namespace/name`; `gracePeriodSeconds` and the preconditions are the eviction's
    /// DeleteOptions.
    public func evict(
        namespace: String, name: String, gracePeriodSeconds: Int64? = nil, preconditionUID: String? = nil,
        by origin: Origin, dryRun: Bool = false
    ) async throws(StatusError) {
        try await appendRecordedInputs(unless: dryRun)
        let key = ObjectKey(kind: Pod.kind, namespace: namespace, name: name)
        guard let (found, _) = current(key), let pod = found as? Pod else {
            throw StatusError(.notFound, "pods \"\(name)\" not found", name: name, kind: "pods")
        }
        if let uid = preconditionUID, uid != pod.metadata.uid {
            throw StatusError(.conflict, "Operation cannot be fulfilled on pods \"\(name)\": Precondition failed: UID in precondition: \(uid), UID in object meta: \(pod.metadata.uid ?? "")",
                              name: name, kind: "pods")
        }
        // A pod that has finished, or is already going, is deleted without consulting a budget.
        let finished = ["Succeeded", "Failed"].contains(pod.status?.phase ?? "")
        if finished || pod.metadata.deletionTimestamp != nil {
            _ = try await delete(.pod, namespace: namespace, name: name, gracePeriodSeconds: gracePeriodSeconds, by: origin, dryRun: dryRun)
            return
        }
        let labels = pod.metadata.labels ?? [:]
        let budgets = state.list(.podDisruptionBudget, namespace: namespace).compactMap { stored -> (PodDisruptionBudget, UInt64)? in
            guard let (o, revision) = current(stored.key), let pdb = o as? PodDisruptionBudget,
                  let selector = pdb.spec?.selector, LabelSelectorExpression(selector).matches(labels) else { return nil }
            return (pdb, revision)
        }
        guard budgets.count <= 1 else {
            throw StatusError(.internalError, "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.", name: name, kind: "pods")
        }
        var cause = origin
        if let (pdb, _) = budgets.first {
            let budgetName = pdb.metadata.name ?? ""
            let status = pdb.status ?? PodDisruptionBudgetStatus()
            func refuse(_ why: String) -> StatusError {
                StatusError(.tooManyRequests, "Cannot evict pod as it would violate the pod's disruption budget.", name: name, kind: "pods",
                            causes: [.init(reason: "DisruptionBudget", message: why, field: "")])
            }
            guard (status.observedGeneration ?? 0) >= (pdb.metadata.generation ?? 1) else {
                throw refuse("The disruption budget \(budgetName) is still being processed by the server.")
            }
            guard (status.disruptionsAllowed ?? 0) > 0 else {
                throw refuse("The disruption budget \(budgetName) needs \(status.desiredHealthy ?? 0) healthy pods and has \(status.currentHealthy ?? 0) currently")
            }
            var charged = pdb
            charged.status = status
            charged.status?.disruptionsAllowed = (status.disruptionsAllowed ?? 0) - 1
            charged.status?.disruptedPods = (status.disruptedPods ?? [:]).merging([name: clock.now().kubernetesTime]) { _, new in new }
            charged.metadata.resourceVersion = nil
            let written = try await updateStatus(charged, by: origin, dryRun: dryRun)
            cause = Origin(origin.actor, request: origin.request, cause: written.metadata.resourceVersion.flatMap { UInt64($0) })
        }
        // kube-apiserver marks the pod before deleting it (the PodDisruptionConditions feature).
        var marked = pod
        var podStatus = marked.status ?? PodStatus(phase: "Pending")
        var conditions = (podStatus.conditions ?? []).filter { $0.type != "DisruptionTarget" }
        conditions.append(PodCondition(type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI",
                                       message: "Eviction API: evicting", lastTransitionTime: clock.now().kubernetesTime))
        podStatus.conditions = conditions
        marked.status = podStatus
        marked.metadata.resourceVersion = nil
        _ = try await updateStatus(marked, by: cause, dryRun: dryRun)
        _ = try await delete(.pod, namespace: namespace, name: name, gracePeriodSeconds: gracePeriodSeconds, by: cause, dryRun: dryRun)
    }
}
