import ClusterModel
import ControlPlane
import Journal

/// kube-controller-manager's StatefulSet controller: pods with stable names and storage —
/// `web-0`, `web-1` … (hostname the pod's name, subdomain the governing Service), each with its own
/// claims from `volumeClaimTemplates` (`www-web-0`), made before the pod and kept when the pod goes,
/// so a replacement of the same name finds its data. `OrderedReady` makes pods one at a time in
/// ordinal order, each once the one before is Running and Ready, and removes them from the highest
/// down; `Parallel` does both at once. A changed template rolls out with `RollingUpdate` from the
/// highest ordinal down to `partition`, one pod at a time, or waits for deletions with `OnDelete`.
public final class StatefulSetController: Reconciler {
    public static let podNameLabel = "statefulset.kubernetes.io/pod-name"
    public static let podIndexLabel = "apps.kubernetes.io/pod-index"
    public static let revisionLabel = "controller-revision-hash"

    /// The StatefulSet of each pod seen.
    private var pods = OwnedObjects(ownerKind: StatefulSet.kind)

    public init() { super.init(name: "statefulset") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        guard WriteType(rawValue: event.type) != nil else { return }
        let key = event.object.key
        switch event.object.kind {
        case StatefulSet.kind:
            markDirty(key, event.revision)
        case Pod.kind:
            if let sts = pods.owner(of: event, in: cache) { markDirty(sts, event.revision) }
        default:
            break
        }
    }

    /// The revision a template is: the StatefulSet's name and the template's hash.
    static func revision(_ sts: StatefulSet) -> String {
        "\(sts.metadata.name ?? "")-\(DeploymentController.templateHash(sts.spec.template))"
    }

    /// The claim a pod gets from a template: `TEMPLATE-POD`.
    static func claimName(_ template: PersistentVolumeClaim, pod: String) -> String { "\(template.metadata.name ?? "")-\(pod)" }

    /// Pod `ordinal` of `sts` at its current revision.
    static func pod(_ sts: StatefulSet, ordinal: Int) -> Pod {
        let set = sts.metadata.name ?? "", name = "\(set)-\(ordinal)"
        var meta = sts.spec.template.metadata ?? ObjectMeta()
        meta.name = name
        meta.generateName = nil
        meta.namespace = sts.metadata.namespace
        meta.labels = (meta.labels ?? [:]).merging([
            podNameLabel: name, podIndexLabel: String(ordinal), revisionLabel: revision(sts),
        ]) { _, new in new }
        meta.ownerReferences = [OwnerReference(apiVersion: StatefulSet.apiVersion, kind: StatefulSet.kind, name: set,
                                               uid: sts.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)]
        var spec = sts.spec.template.spec
        spec.hostname = name
        spec.subdomain = sts.spec.serviceName
        var volumes = spec.volumes ?? []
        for template in sts.spec.volumeClaimTemplates ?? [] {
            let volumeName = template.metadata.name ?? ""
            volumes.removeAll { $0.name == volumeName }
            var volume = Volume(name: volumeName)
            volume.persistentVolumeClaim = ClaimVolumeSource(claimName: claimName(template, pod: name))
            volumes.append(volume)
        }
        spec.volumes = volumes.isEmpty ? nil : volumes
        return Pod(metadata: meta, spec: spec)
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard let sts = context.cache.get(StatefulSet.self, namespace: key.namespace, name: key.name), sts.metadata.deletionTimestamp == nil,
              let uid = sts.metadata.uid else { return false }
        let replicas = Int(sts.spec.replicas ?? 1)
        let parallel = sts.spec.podManagementPolicy == "Parallel"
        let updateRevision = Self.revision(sts)
        let prefix = key.name + "-"
        var byOrdinal: [Int: Pod] = [:]
        for p in context.cache.list(Pod.self, namespace: key.namespace) where p.metadata.controllerReference?.uid == uid {
            if let name = p.metadata.name, name.hasPrefix(prefix), let i = Int(name.dropFirst(prefix.count)) { byOrdinal[i] = p }
        }
        func healthy(_ p: Pod) -> Bool { p.metadata.deletionTimestamp == nil && p.status?.phase == "Running" && p.isReady }
        let terminating = byOrdinal.values.contains { $0.metadata.deletionTimestamp != nil }

        var createOrdinals: [Int] = [], doomed: [Pod] = [], claims: [PersistentVolumeClaim] = []
        // Up: missing ordinals below replicas (and failed pods go, to be made again).
        for i in 0..<replicas {
            guard let p = byOrdinal[i] else {
                createOrdinals.append(i)
                if parallel { continue } else { break }
            }
            if p.status?.phase == "Failed", p.metadata.deletionTimestamp == nil {
                doomed.append(p)
                if !parallel { break }
            }
            if !parallel, !healthy(p) { break }
        }
        // Down: ordinals at or above replicas, highest first.
        let surplus = byOrdinal.keys.filter { $0 >= replicas }.sorted(by: >).compactMap { byOrdinal[$0] }.filter { $0.metadata.deletionTimestamp == nil }
        if parallel {
            doomed += surplus
        } else if let highest = surplus.first, !terminating, (0..<replicas).allSatisfy({ byOrdinal[$0].map(healthy) ?? false }) || createOrdinals.isEmpty {
            doomed.append(highest)
        }
        // A new template: the highest pod at another revision, down to the partition, one at a time.
        let current = (0..<replicas).compactMap { byOrdinal[$0] }
        if sts.spec.updateStrategy?.type ?? "RollingUpdate" == "RollingUpdate", createOrdinals.isEmpty, doomed.isEmpty, !terminating,
           current.count == replicas, current.allSatisfy(healthy) {
            let partition = Int(sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0)
            if let stale = (partition..<max(partition, replicas)).reversed().compactMap({ byOrdinal[$0] })
                .first(where: { $0.metadata.labels?[Self.revisionLabel] != updateRevision }) {
                doomed.append(stale)
            }
        }
        // Each new pod's claims, made first and kept across the pod's replacements.
        for i in createOrdinals {
            for template in sts.spec.volumeClaimTemplates ?? [] {
                let name = Self.claimName(template, pod: "\(key.name)-\(i)")
                guard context.cache.get(PersistentVolumeClaim.self, namespace: key.namespace, name: name) == nil else { continue }
                var meta = ObjectMeta(name: name, namespace: key.namespace,
                                      labels: (template.metadata.labels ?? [:]).merging(sts.spec.selector.matchLabels ?? [:]) { _, new in new })
                meta.annotations = template.metadata.annotations
                if sts.spec.persistentVolumeClaimRetentionPolicy?["whenDeleted"]?.stringValue == "Delete" {
                    meta.ownerReferences = [OwnerReference(apiVersion: StatefulSet.apiVersion, kind: StatefulSet.kind, name: key.name,
                                                           uid: uid, controller: true, blockOwnerDeletion: true)]
                }
                claims.append(PersistentVolumeClaim(metadata: meta, spec: template.spec ?? PersistentVolumeClaimSpec(accessModes: nil, requests: nil)))
            }
        }

        var status = sts.status ?? StatefulSetStatus()
        let live = byOrdinal.values.filter { $0.metadata.deletionTimestamp == nil }
        status.observedGeneration = sts.metadata.generation
        status.replicas = Int32(live.count)
        status.readyReplicas = Int32(live.filter(\.isReady).count)
        status.availableReplicas = status.readyReplicas
        status.updatedReplicas = Int32(live.filter { $0.metadata.labels?[Self.revisionLabel] == updateRevision }.count)
        status.updateRevision = updateRevision
        status.currentRevision = status.updatedReplicas == Int32(replicas) ? updateRevision : (status.currentRevision ?? updateRevision)
        status.currentReplicas = Int32(live.filter { $0.metadata.labels?[Self.revisionLabel] == status.currentRevision }.count)
        status.collisionCount = status.collisionCount ?? 0
        guard !createOrdinals.isEmpty || !doomed.isEmpty || status != sts.status else { return false }

        var steps: [String] = []
        steps += claims.map { "create claim \($0.metadata.name ?? "")" }
        steps += createOrdinals.map { "create pod \(key.name)-\($0)" }
        steps += doomed.map { "delete pod \($0.metadata.name ?? "")" }
        let origin = try await decide(context, about: sts.objectRef, trigger: trigger,
                                      steps.isEmpty ? .one("update-status") : steps.count == 1 ? .one(steps[0]) : .steps(steps)) {
            $0.observed = .init(replicas: Int64(live.count), updated: Int64(status.updatedReplicas ?? 0), ready: Int64(status.readyReplicas ?? 0))
            $0.desired = Int64(replicas)
            $0.reason = "\(live.count) pod(s), \(status.readyReplicas ?? 0) ready, \(replicas) wanted (\(parallel ? "Parallel" : "OrderedReady"), revision \(updateRevision))"
        }
        func event(_ reason: String, _ message: String) async throws {
            try await context.recordEvent(about: sts, reason: reason, message: message, component: "statefulset-controller", by: actor, cause: origin.cause)
        }
        for claim in claims {
            do {
                _ = try await context.store.create(claim, by: origin)
                try await event("SuccessfulCreate", "create Claim \(claim.metadata.name ?? "") in StatefulSet \(key.name) success")
            } catch {
                guard Self.isRefusal(error) else { throw error }
                try await refused(error, key: key, about: sts, reason: "FailedCreate", message: "create Claim \(claim.metadata.name ?? "") in StatefulSet \(key.name) failed error: \(error)", context, cause: origin.cause)
                return true
            }
        }
        for i in createOrdinals {
            do {
                let pod = try await context.store.create(Self.pod(sts, ordinal: i), by: origin)
                accepted(key)
                try await event("SuccessfulCreate", "create Pod \(pod.metadata.name ?? "") in StatefulSet \(key.name) successful")
            } catch {
                guard Self.isRefusal(error) else { throw error }
                try await refused(error, key: key, about: sts, reason: "FailedCreate", message: "create Pod \(key.name)-\(i) in StatefulSet \(key.name) failed error: \(error)", context, cause: origin.cause)
                break
            }
        }
        for pod in doomed {
            guard (try? await context.store.delete(.pod, namespace: key.namespace, name: pod.metadata.name ?? "", by: origin)) != nil else { continue }
            try await event("SuccessfulDelete", "delete Pod \(pod.metadata.name ?? "") in StatefulSet \(key.name) successful")
        }
        if status != sts.status {
            var updated = sts
            updated.status = status
            updated.metadata.resourceVersion = nil
            _ = try await context.store.updateStatus(updated, by: origin)
        }
        return true
    }
}
