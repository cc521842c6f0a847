import ClusterModel
import ControlPlane
import Journal

/// kube-controller-manager's Job controller: runs a Job's pods until `completions` of them have
/// succeeded (or, without `completions`, until one has and none is running), at most
/// `parallelism` at a time; after a failure the next pod waits out a back-off (10 s doubling to
/// 6 min); more failures than `backoffLimit` (a failed pod, or a container restart under
/// `restartPolicy: OnFailure`), or a Job older than `activeDeadlineSeconds`, fail the Job and
/// delete its running pods; `suspend` deletes them until it is lifted. Its conditions and Events
/// are Kubernetes' (`SuccessCriteriaMet` and `Complete`; `FailureTarget` and `Failed` with
/// `BackoffLimitExceeded` or `DeadlineExceeded`).
///
/// Finished pods are counted as they stand: a Job keeps its pods until it is deleted, so its
/// counts hold unless someone deletes a finished pod (Kubernetes' tracking finalizers, which
/// guard against that, are not modelled).
public final class JobController: Reconciler {
    /// The back-off before a pod replaces a failed one: 10 s, doubling, at most 6 min.
    static let initialBackoff: Int64 = 10, maxBackoff: Int64 = 360

    /// The Job of each pod seen.
    private var pods = OwnedObjects(ownerKind: Job.kind)

    public init() { super.init(name: "job") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        let key = event.object.key
        switch event.object.kind {
        case Job.kind:
            if WriteType(rawValue: event.type) != nil { markDirty(key, event.revision) }
        case Pod.kind:
            if let job = pods.owner(of: event, in: cache) { markDirty(job, event.revision) }
        default:
            break
        }
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard let job = context.cache.get(Job.self, namespace: key.namespace, name: key.name), job.metadata.deletionTimestamp == nil,
              let uid = job.metadata.uid else { return false }
        let conditions = job.status?.conditions ?? []
        func has(_ type: String) -> Bool { conditions.contains { $0.type == type && $0.status == "True" } }
        let pods = context.cache.list(Pod.self, namespace: key.namespace).filter { $0.metadata.controllerReference?.uid == uid }
        let finished = has("Complete") || has("Failed")
        let running = pods.filter { !["Succeeded", "Failed"].contains($0.status?.phase ?? "") }
        let active = running.filter { $0.metadata.deletionTimestamp == nil }
        let succeeded = pods.filter { $0.status?.phase == "Succeeded" }.count
        let failedPods = pods.filter { $0.status?.phase == "Failed" }
        let onFailureRestarts = job.spec.template.spec.restartPolicy == "OnFailure"
            ? pods.reduce(0) { $0 + Int($1.status?.containerStatuses?.reduce(0) { $0 + Int($1.restartCount) } ?? 0) } : 0
        let failures = failedPods.count + onFailureRestarts
        let now = context.now
        let start = job.status?.startTime.flatMap { Timestamp(rfc3339: $0) } ?? now

        // What the Job should do now.
        var failure: (reason: String, message: String)?
        if failures > Int(job.spec.backoffLimit ?? 6) {
            failure = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
        } else if let deadline = job.spec.activeDeadlineSeconds, job.spec.suspend != true, start.adding(seconds: deadline) <= now {
            failure = ("DeadlineExceeded", "Job was active longer than specified deadline")
        } else if has("FailureTarget"), let target = conditions.first(where: { $0.type == "FailureTarget" }) {
            failure = (target.reason ?? "BackoffLimitExceeded", target.message ?? "")
        }
        let completions = job.spec.completions
        let complete = failure == nil && (completions.map { succeeded >= Int($0) } ?? (succeeded > 0 && active.isEmpty))
        var wanted = 0
        if !finished, failure == nil, !complete, job.spec.suspend != true {
            let remaining = completions.map { max(0, Int($0) - succeeded) } ?? (succeeded > 0 ? 0 : Int(job.spec.parallelism ?? 1))
            wanted = min(Int(job.spec.parallelism ?? 1), remaining)
        }
        // A replacement for a failed pod waits out the back-off.
        var waitUntil: Timestamp?
        if wanted > active.count, !failedPods.isEmpty {
            let lastFailure = failedPods.compactMap { p in
                p.status?.containerStatuses?.compactMap { $0.state?.terminated?.finishedAt }.max().flatMap { Timestamp(rfc3339: $0) }
            }.max() ?? now
            let backoff = min(Self.maxBackoff, Self.initialBackoff << Int64(min(failedPods.count - 1, 10)))
            if lastFailure.adding(seconds: backoff) > now { waitUntil = lastFailure.adding(seconds: backoff) }
        }
        let creates = waitUntil == nil ? max(0, wanted - active.count) : 0
        let doomed = finished || failure != nil || complete || job.spec.suspend == true
            ? active : Array(ReplicaSetController.deletionOrder(active).prefix(max(0, active.count - wanted)))

        // The status those actions lead to.
        var status = job.status ?? JobStatus()
        status.startTime = status.startTime ?? (job.spec.suspend == true ? nil : now.kubernetesTime)
        status.active = Int32(active.count - doomed.count + creates)
        status.succeeded = Int32(succeeded)
        status.failed = Int32(failures)
        status.ready = Int32(active.filter { $0.isReady && !doomed.contains($0) }.count)
        status.terminating = Int32(running.count - active.count + doomed.count)
        var newConditions = conditions
        func set(_ type: String, _ reason: String, _ message: String) {
            guard !newConditions.contains(where: { $0.type == type && $0.status == "True" }) else { return }
            newConditions.removeAll { $0.type == type }
            var c = JobCondition(type: type, status: "True", reason: reason, message: message)
            (c.lastProbeTime, c.lastTransitionTime) = (now.kubernetesTime, now.kubernetesTime)
            newConditions.append(c)
        }
        var events: [(reason: String, message: String, type: String)] = []
        if let failure, !finished {
            set("FailureTarget", failure.reason, failure.message)
            // Failed once its pods are gone.
            if status.terminating == 0, status.active == 0 {
                set("Failed", failure.reason, failure.message)
                events.append((failure.reason, failure.message, "Warning"))
            }
        } else if complete, !finished, status.active == 0 {
            set("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods")
            set("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
            status.completionTime = now.kubernetesTime
            events.append(("Completed", "Job completed", "Normal"))
        } else if job.spec.suspend == true {
            set("Suspended", "JobSuspended", "Job suspended")
        } else if has("Suspended") {
            newConditions.removeAll { $0.type == "Suspended" }
        }
        status.conditions = newConditions.isEmpty ? nil : newConditions
        if let waitUntil { requeue(key, at: waitUntil, trigger: trigger) }
        if failure == nil, !finished, let deadline = job.spec.activeDeadlineSeconds, job.spec.suspend != true {
            requeue(key, at: start.adding(seconds: deadline), trigger: trigger)
        }
        guard creates > 0 || !doomed.isEmpty || status != job.status else { return false }

        let action = creates > 0 ? "create" : !doomed.isEmpty ? "delete" : newConditions != conditions ? (failure != nil ? "fail" : complete ? "complete" : "update-status") : "update-status"
        let origin = try await decide(context, about: job.objectRef, trigger: trigger, .one(action)) {
            $0.observed = .init(replicas: Int64(active.count), ready: Int64(status.ready ?? 0))
            $0.desired = Int64(wanted)
            $0.reason = failure.map { "\($0.reason): \($0.message) (\(failures) failure(s), backoffLimit \(job.spec.backoffLimit ?? 6))" }
                ?? "\(succeeded) succeeded of \(completions.map(String.init) ?? "any 1"), \(active.count) active, parallelism \(job.spec.parallelism ?? 1)"
            if creates > 0 { $0.count = Int64(creates) }
            if !doomed.isEmpty { $0.pods = doomed.map { $0.metadata.name ?? "" } }
        }
        for _ in 0..<creates {
            try Task.checkCancellation()
            var meta = job.spec.template.metadata ?? ObjectMeta()
            meta.name = nil
            meta.generateName = "\(key.name)-"
            meta.namespace = key.namespace
            meta.ownerReferences = [OwnerReference(apiVersion: Job.apiVersion, kind: Job.kind, name: key.name, uid: uid,
                                                   controller: true, blockOwnerDeletion: true)]
            guard try await createPod(Pod(metadata: meta, spec: job.spec.template.spec), for: job, key: key, component: "job-controller", origin, context) else { break }
        }
        for pod in doomed { try await deletePod(pod, of: job, component: "job-controller", origin, context) }
        if status != job.status {
            var updated = job
            updated.status = status
            updated.metadata.resourceVersion = nil
            _ = try await context.store.updateStatus(updated, by: origin)
        }
        for e in events {
            try await context.recordEvent(about: job, reason: e.reason, message: e.message, type: e.type, component: "job-controller", by: actor, cause: origin.cause)
        }
        return true
    }
}
