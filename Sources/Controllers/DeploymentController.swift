import ClusterModel
import ControlPlane
import Crypto
import Foundation
import Journal

/// Runs Deployments through ReplicaSets: one ReplicaSet per pod template (named by the template's
/// hash, labelled `pod-template-hash`), scaled by the RollingUpdate or Recreate strategy, with the
/// revision in `deployment.kubernetes.io/revision`. A rollback (the template set back to an older
/// one) re-uses that template's ReplicaSet and gives it the next revision. Old ReplicaSets beyond
/// `revisionHistoryLimit` are deleted.
public final class DeploymentController: Reconciler {
    public static let hashLabel = "pod-template-hash"

    public init() { super.init(name: "deployment") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        let key = event.object.key
        switch event.object.kind {
        case Deployment.kind:
            // Writes only: its own decision about a Deployment must not bring it back at once (a
            // refused write would be retried in a loop instead of after its back-off).
            if WriteType(rawValue: event.type) != nil { markDirty(key, event.revision) }
        case ReplicaSet.kind:
            let owner = cache.get(ReplicaSet.self, namespace: key.namespace, name: key.name)?.metadata.controllerReference ?? rsOwners[key]
            if let rs = cache.get(ReplicaSet.self, namespace: key.namespace, name: key.name) { rsOwners[key] = rs.metadata.controllerReference }
            if let owner, owner.kind == Deployment.kind {
                markDirty(ObjectKey(kind: Deployment.kind, namespace: key.namespace, name: owner.name), event.revision)
            }
        default:
            break
        }
    }

    private var rsOwners: [ObjectKey: OwnerReference] = [:]

    /// A short, stable hash of a pod template (without its pod-template-hash label).
    public static func templateHash(_ template: PodTemplateSpec) -> String {
        var t = template
        t.metadata?.labels?[hashLabel] = nil
        let bytes = (try? ValueEncoder().encode(t).serialized()) ?? []
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(SHA256.hash(data: bytes).prefix(10).map { alphabet[Int($0) % alphabet.count] })
    }

    static func revision(_ rs: ReplicaSet) -> Int { revisionNumber(rs) }

    /// The revision a ReplicaSet's annotation records (0 without one).
    public static func revisionNumber(_ rs: ReplicaSet) -> Int { Int(rs.metadata.annotations?[Deployment.revisionAnnotation] ?? "") ?? 0 }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard var d = context.cache.get(Deployment.self, namespace: key.namespace, name: key.name), d.metadata.deletionTimestamp == nil else { return false }
        let store = context.store
        let all = context.cache.owned(by: d.metadata.uid, as: ReplicaSet.self).filter { $0.controllerUID(kind: Deployment.kind) == d.metadata.uid }
        let hash = Self.templateHash(d.spec.template)
        var newRS = all.first { $0.metadata.labels?[Self.hashLabel] == hash }
        let old = all.filter { $0.metadata.uid != newRS?.metadata.uid }.sorted { ($0.metadata.creationTimestamp ?? "", $0.metadata.name ?? "") < ($1.metadata.creationTimestamp ?? "", $1.metadata.name ?? "") }
        let maxOldRevision = old.map(Self.revision).max() ?? 0
        let desired = Int(d.spec.replicas ?? 1)
        let strategy = d.spec.strategy?.type ?? "RollingUpdate"
        var actions: [String] = []
        var writes: [(String, ReplicaSet, Bool)] = []  // (what, replica set, create?)

        // The ReplicaSet of the current template, and its revision.
        if newRS == nil {
            var template = d.spec.template
            var labels = template.metadata?.labels ?? [:]
            labels[Self.hashLabel] = hash
            if template.metadata == nil { template.metadata = ObjectMeta() }
            template.metadata?.labels = labels
            var selector = d.spec.selector
            selector.matchLabels = (selector.matchLabels ?? [:]).merging([Self.hashLabel: hash]) { $1 }
            var meta = ObjectMeta(name: "\(key.name)-\(hash)", namespace: key.namespace, labels: labels)
            meta.annotations = [Deployment.revisionAnnotation: String(maxOldRevision + 1)]
            meta.ownerReferences = [OwnerReference(apiVersion: Deployment.apiVersion, kind: Deployment.kind, name: key.name,
                                                   uid: d.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)]
            let oldTotal = old.reduce(0) { $0 + Int($1.spec.replicas ?? 0) }
            let initial = strategy == "Recreate" ? (oldTotal == 0 ? desired : 0)
                : min(desired, max(0, desired + Self.maxSurge(d, desired) - oldTotal))
            let rs = ReplicaSet(metadata: meta, spec: ReplicaSetSpec(replicas: Int32(initial), selector: selector, template: template))
            actions.append("create ReplicaSet \(meta.name!) (revision \(maxOldRevision + 1)) with \(initial) replica(s)")
            writes.append(("create", rs, true))
            newRS = rs
        } else if Self.revision(newRS!) <= maxOldRevision {
            var rs = newRS!
            rs.metadata.annotations = (rs.metadata.annotations ?? [:]).merging([Deployment.revisionAnnotation: String(maxOldRevision + 1)]) { $1 }
            actions.append("roll back to ReplicaSet \(rs.metadata.name ?? "") as revision \(maxOldRevision + 1)")
            writes.append(("revision", rs, false))
            newRS = rs
        }
        var new = newRS!
        var scaled: [String: Int] = [:]
        if !(d.spec.paused ?? false) {
            let newReplicas = Int(new.spec.replicas ?? 0)
            let oldTotal = old.reduce(0) { $0 + Int($1.spec.replicas ?? 0) }
            if strategy == "Recreate" {
                for rs in old where (rs.spec.replicas ?? 0) > 0 { scaled[rs.metadata.name!] = 0 }
                let oldPods = old.flatMap { context.cache.owned(by: $0.metadata.uid, as: Pod.self) }
                if oldTotal == 0, oldPods.isEmpty, newReplicas != desired { scaled[new.metadata.name!] = desired }
            } else {
                let surge = Self.maxSurge(d, desired), unavailable = Self.maxUnavailable(d, desired)
                // Scale the new ReplicaSet up, within maxSurge.
                if newReplicas < desired {
                    let room = desired + surge - (oldTotal + newReplicas)
                    if room > 0 { scaled[new.metadata.name!] = newReplicas + min(room, desired - newReplicas) }
                } else if newReplicas > desired {
                    scaled[new.metadata.name!] = desired
                }
                // Scale old ReplicaSets down (oldest first), keeping desired − maxUnavailable available:
                // first their unavailable pods, then available ones while enough stay available.
                let minAvailable = desired - unavailable
                let newUnavailable = max(0, newReplicas - Int(new.status?.availableReplicas ?? 0))
                var cleanup = oldTotal + newReplicas - minAvailable - newUnavailable
                var replicas = Dictionary(uniqueKeysWithValues: old.map { ($0.metadata.name!, Int($0.spec.replicas ?? 0)) })
                for rs in old where cleanup > 0 {
                    let name = rs.metadata.name!
                    let cut = min(cleanup, max(0, replicas[name]! - Int(rs.status?.availableReplicas ?? 0)))
                    replicas[name]! -= cut
                    cleanup -= cut
                }
                let available = all.reduce(0) { $0 + Int($1.status?.availableReplicas ?? 0) }
                var spare = oldTotal + newReplicas - minAvailable - newUnavailable > 0 ? available - minAvailable : 0
                for rs in old where spare > 0 {
                    let name = rs.metadata.name!
                    let cut = min(spare, replicas[name]!)
                    replicas[name]! -= cut
                    spare -= cut
                }
                for rs in old where replicas[rs.metadata.name!]! != Int(rs.spec.replicas ?? 0) {
                    scaled[rs.metadata.name!] = replicas[rs.metadata.name!]!
                }
            }
        }
        for name in scaled.keys.sorted() {
            let rs = name == new.metadata.name ? new : old.first { $0.metadata.name == name }!
            actions.append("scale ReplicaSet \(name) from \(rs.spec.replicas ?? 0) to \(scaled[name]!)")
            if let i = writes.firstIndex(where: { $0.1.metadata.name == name }) {
                writes[i].1.spec.replicas = Int32(scaled[name]!)
                if name == new.metadata.name { new = writes[i].1 }
            } else {
                var copy = rs
                copy.spec.replicas = Int32(scaled[name]!)
                writes.append(("scale", copy, false))
            }
        }
        // History beyond revisionHistoryLimit: old ReplicaSets with no replicas, oldest first.
        let limit = Int(d.spec.revisionHistoryLimit ?? 10)
        let idle = old.filter { ($0.spec.replicas ?? 0) == 0 && ($0.status?.replicas ?? 0) == 0 && scaled[$0.metadata.name!] == nil }
            .sorted { Self.revision($0) < Self.revision($1) }
        let expired = idle.count > limit ? Array(idle.prefix(idle.count - limit)) : []
        for rs in expired { actions.append("delete old ReplicaSet \(rs.metadata.name ?? "") (revision \(Self.revision(rs)))") }

        // Status and the revision annotation.
        let everyRS = all.filter { rs in !expired.contains { $0.metadata.uid == rs.metadata.uid } }
        var status = DeploymentStatus()
        status.observedGeneration = d.metadata.generation
        status.replicas = Int32(clamping: everyRS.reduce(0) { $0 + Int($1.status?.replicas ?? 0) })
        status.updatedReplicas = all.contains { $0.metadata.uid == new.metadata.uid } ? new.status?.replicas ?? 0 : 0
        status.readyReplicas = Int32(clamping: everyRS.reduce(0) { $0 + Int($1.status?.readyReplicas ?? 0) })
        status.availableReplicas = Int32(clamping: everyRS.reduce(0) { $0 + Int($1.status?.availableReplicas ?? 0) })
        status.unavailableReplicas = Int32(clamping: max(0, desired - Int(status.availableReplicas ?? 0)))
        let minAvailable = desired - (strategy == "Recreate" ? desired : Self.maxUnavailable(d, desired))
        let complete = status.updatedReplicas == Int32(desired) && status.replicas == Int32(desired) && status.availableReplicas == Int32(desired)
        status.conditions = [
            DeploymentCondition(type: "Available", status: Int(status.availableReplicas ?? 0) >= minAvailable ? "True" : "False",
                                reason: Int(status.availableReplicas ?? 0) >= minAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                                message: Int(status.availableReplicas ?? 0) >= minAvailable ? "Deployment has minimum availability." : "Deployment does not have minimum availability."),
            DeploymentCondition(type: "Progressing", status: "True", reason: complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                                message: complete ? "ReplicaSet \"\(new.metadata.name ?? "")\" has successfully progressed." : "ReplicaSet \"\(new.metadata.name ?? "")\" is progressing."),
        ]
        for i in status.conditions!.indices {
            let previous = d.status?.conditions?.first { $0.type == status.conditions![i].type }
            let same = previous?.status == status.conditions![i].status && previous?.reason == status.conditions![i].reason
            status.conditions![i].lastUpdateTime = same ? previous?.lastUpdateTime : context.now.kubernetesTime
            status.conditions![i].lastTransitionTime = previous?.status == status.conditions![i].status ? previous?.lastTransitionTime : context.now.kubernetesTime
        }
        let revisionText = String(Self.revision(new))
        let annotate = d.metadata.annotations?[Deployment.revisionAnnotation] != revisionText
        let statusChanged = status != d.status
        guard !writes.isEmpty || !expired.isEmpty || annotate || statusChanged else { return false }
        if annotate { actions.append("set revision \(revisionText)") }
        if actions.isEmpty { actions.append("update status") }
        let origin = try await decide(context, about: d.objectRef, trigger: trigger, .steps(actions)) {
            $0.desired = Int64(desired)
            $0.observed = .init(replicas: Int64(status.replicas ?? 0), updated: Int64(status.updatedReplicas ?? 0), available: Int64(status.availableReplicas ?? 0))
            $0.strategy = strategy
            $0.newReplicaSet = new.metadata.name ?? ""
        }
        for (_, rs, create) in writes {
            do {
                if create { _ = try await store.create(rs, by: origin) } else { _ = try await store.update(rs, by: origin) }
                accepted(key)
                // kube-controller-manager's Event for every change of a ReplicaSet's size.
                let from = create ? 0 : Int(all.first { $0.metadata.uid == rs.metadata.uid }?.spec.replicas ?? 0)
                let to = Int(rs.spec.replicas ?? 0)
                if from != to {
                    try await context.recordEvent(
                        about: d, reason: "ScalingReplicaSet",
                        message: "Scaled \(to > from ? "up" : "down") replica set \(rs.metadata.name ?? "") from \(from) to \(to)",
                        component: "deployment-controller", by: actor, cause: origin.cause)
                }
            } catch {
                guard create, Self.isRefusal(error) else { throw error }
                try await refused(error, key: key, about: d, reason: "FailedCreate",
                                  message: "Failed to create new replica set \"\(rs.metadata.name ?? "")\": \(error)", context, cause: origin.cause)
                return true
            }
        }
        for rs in expired { _ = try? await store.delete(.replicaSet, namespace: key.namespace, name: rs.metadata.name ?? "", by: origin) }
        if annotate {
            d.metadata.annotations = (d.metadata.annotations ?? [:]).merging([Deployment.revisionAnnotation: revisionText]) { $1 }
            d = try await store.update(d, by: origin)
        }
        if statusChanged || annotate {
            d.status = status
            _ = try await store.updateStatus(d, by: origin)
        }
        return true
    }

    static func maxSurge(_ d: Deployment, _ desired: Int) -> Int {
        // No more than any replica count can be (a percentage may be far larger), so sums stay small.
        let surge = d.spec.strategy?.rollingUpdate?.maxSurge?.scaled(total: desired, roundUp: true) ?? 0
        return min(max(surge, 0), Int(Int32.max))
    }

    static func maxUnavailable(_ d: Deployment, _ desired: Int) -> Int {
        let u = max(0, d.spec.strategy?.rollingUpdate?.maxUnavailable?.scaled(total: desired, roundUp: false) ?? 0)
        return (u == 0 && maxSurge(d, desired) == 0) ? 1 : min(u, desired)
    }
}
