import ClusterModel
import ControlPlane
import Journal

/// kube-controller-manager's PersistentVolume controller with a simulated dynamic provisioner:
/// a pending claim is bound to the smallest Available volume of its class that is large enough
/// and offers its access modes, or — if its StorageClass names a provisioner — to a new volume
/// made for it (`pvc-UID`, the claim's size, the class's reclaim policy). With
/// `volumeBindingMode: Immediate` that happens as soon as the claim exists; with
/// `WaitForFirstConsumer` once a pod using the claim is bound to a node, and a provisioned
/// volume is then pinned to that node. A volume whose claim is deleted is Released, and deleted
/// if its reclaim policy is `Delete`.
public final class VolumeBinderController: Reconciler {
    public static let provisionedByAnnotation = "pv.kubernetes.io/provisioned-by"
    public static let bindCompletedAnnotation = "pv.kubernetes.io/bind-completed"
    public static let boundByControllerAnnotation = "pv.kubernetes.io/bound-by-controller"
    public static let selectedNodeAnnotation = "volume.kubernetes.io/selected-node"

    public init() { super.init(name: "persistentvolume-binder") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        guard WriteType(rawValue: event.type) != nil else { return }
        let key = event.object.key
        switch event.object.kind {
        case PersistentVolumeClaim.kind:
            markDirty(key, event.revision)
            if event.type == WriteType.deleted.rawValue {
                // Its volume is released.
                for pv in cache.list(PersistentVolume.self) where pv.spec?.claimRef?.uid == event.object.uid { markDirty(pv.objectKey, event.revision) }
            }
        case PersistentVolume.kind, StorageClass.kind:
            // A volume or class appeared or changed: pending claims may bind now.
            for pvc in cache.list(PersistentVolumeClaim.self) where pvc.status?.phase == "Pending" { markDirty(pvc.objectKey, event.revision) }
            if event.object.kind == PersistentVolume.kind { markDirty(key, event.revision) }
        case Pod.kind:
            // A pod bound to a node is the first consumer its claims wait for.
            guard let pod = cache.get(Pod.self, namespace: key.namespace, name: key.name), pod.spec.nodeName != nil else { return }
            for v in pod.spec.volumes ?? [] {
                if let claim = v.persistentVolumeClaim?.claimName {
                    markDirty(ObjectKey(kind: PersistentVolumeClaim.kind, namespace: key.namespace, name: claim), event.revision)
                }
            }
        default:
            break
        }
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        if key.kind == PersistentVolume.kind { return try await syncVolume(key, trigger: trigger, context) }
        guard let pvc = context.cache.get(PersistentVolumeClaim.self, namespace: key.namespace, name: key.name),
              pvc.metadata.deletionTimestamp == nil, pvc.status?.phase ?? "Pending" == "Pending", pvc.spec?.volumeName == nil else { return false }
        let className = pvc.spec?.storageClassName ?? ""
        let storageClass = className.isEmpty ? nil : context.cache.get(StorageClass.self, name: className)
        var node: String?
        if storageClass?.volumeBindingMode == "WaitForFirstConsumer" {
            let consumer = context.cache.list(Pod.self, namespace: key.namespace).first { p in
                p.spec.nodeName != nil && (p.spec.volumes ?? []).contains { $0.persistentVolumeClaim?.claimName == key.name }
            }
            guard let consumer else { return false }
            node = consumer.spec.nodeName
        }
        let wanted = pvc.spec?.resources?.requests?["storage"] ?? .zero
        let modes = Set(pvc.spec?.accessModes ?? [])
        let candidates = context.cache.list(PersistentVolume.self).filter { pv in
            pv.status?.phase == "Available" && pv.spec?.claimRef == nil && (pv.spec?.storageClassName ?? "") == className
                && (pv.spec?.capacity?["storage"] ?? .zero) >= wanted && modes.isSubset(of: Set(pv.spec?.accessModes ?? []))
        }.sorted { ($0.spec?.capacity?["storage"] ?? .zero, $0.metadata.name ?? "") < ($1.spec?.capacity?["storage"] ?? .zero, $1.metadata.name ?? "") }
        var volume = candidates.first
        let provision = volume == nil && storageClass?.provisioner.isEmpty == false
        guard volume != nil || provision else { return false }
        let claimRef = ObjectReference(kind: PersistentVolumeClaim.kind, namespace: key.namespace, name: key.name, uid: pvc.metadata.uid,
                                       apiVersion: PersistentVolumeClaim.apiVersion)
        let origin = try await decide(context, about: pvc.objectRef, trigger: trigger, .one(provision ? "provision" : "bind")) {
            $0.reason = provision
                ? "no Available volume of class \(className) fits; \(storageClass!.provisioner) provisions \(wanted)" + (node.map { " on \($0)" } ?? "")
                : "volume \(volume!.metadata.name ?? "") (\(volume!.spec?.capacity?["storage"]?.description ?? "?")) fits"
        }
        if provision, let sc = storageClass, let uid = pvc.metadata.uid {
            var meta = ObjectMeta(name: "pvc-\(uid)")
            meta.annotations = [Self.provisionedByAnnotation: sc.provisioner]
            var spec = PersistentVolumeSpec(capacity: ["storage": wanted], accessModes: pvc.spec?.accessModes)
            spec.storageClassName = className
            spec.persistentVolumeReclaimPolicy = sc.reclaimPolicy ?? "Delete"
            spec.volumeMode = pvc.spec?.volumeMode ?? "Filesystem"
            spec.hostPath = ["path": .string("/var/lib/kubejournal/volumes/pvc-\(uid)"), "type": "DirectoryOrCreate"]
            if let node {
                spec.nodeAffinity = ["required": ["nodeSelectorTerms": [["matchExpressions": [
                    ["key": "kubernetes.io/hostname", "operator": "In", "values": [.string(node)]],
                ]]]]]
            }
            spec.claimRef = claimRef
            volume = try await context.store.create(PersistentVolume(metadata: meta, spec: spec), by: origin)
            try await context.recordEvent(about: pvc, reason: "ProvisioningSucceeded", message: "Successfully provisioned volume pvc-\(uid)",
                                          component: "persistentvolume-controller", by: actor, cause: origin.cause)
        }
        guard var pv = volume else { return true }
        pv.spec?.claimRef = claimRef
        pv.metadata.annotations = (pv.metadata.annotations ?? [:]).merging([Self.boundByControllerAnnotation: "yes"]) { _, new in new }
        pv.metadata.resourceVersion = nil
        if !provision { pv = try await context.store.update(pv, by: origin) }
        pv.status = PersistentVolumeStatus(phase: "Bound")
        pv.metadata.resourceVersion = nil
        _ = try await context.store.updateStatus(pv, by: origin)
        var claim = pvc
        claim.spec?.volumeName = pv.metadata.name
        var annotations = claim.metadata.annotations ?? [:]
        annotations[Self.bindCompletedAnnotation] = "yes"
        annotations[Self.boundByControllerAnnotation] = "yes"
        if let node { annotations[Self.selectedNodeAnnotation] = node }
        claim.metadata.annotations = annotations
        claim.metadata.resourceVersion = nil
        claim = try await context.store.update(claim, by: origin)
        var status = PersistentVolumeClaimStatus(phase: "Bound")
        status.capacity = pv.spec?.capacity
        status.accessModes = pv.spec?.accessModes
        claim.status = status
        claim.metadata.resourceVersion = nil
        _ = try await context.store.updateStatus(claim, by: origin)
        return true
    }

    /// A new volume becomes Available; a bound volume whose claim is gone is Released, then
    /// deleted if its policy says so.
    private func syncVolume(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard let pv = context.cache.get(PersistentVolume.self, name: key.name), pv.metadata.deletionTimestamp == nil else { return false }
        if pv.status?.phase ?? "Pending" == "Pending", pv.spec?.claimRef == nil {
            let origin = try await decide(context, about: pv.objectRef, trigger: trigger, .one("make-available")) { $0.reason = "a new volume, bound to no claim" }
            var available = pv
            available.status = PersistentVolumeStatus(phase: "Available")
            available.metadata.resourceVersion = nil
            _ = try await context.store.updateStatus(available, by: origin)
            return true
        }
        guard let ref = pv.spec?.claimRef, pv.status?.phase == "Bound" else { return false }
        let claim = context.cache.get(PersistentVolumeClaim.self, namespace: ref.namespace ?? "", name: ref.name ?? "")
        guard claim == nil || claim?.metadata.uid != ref.uid else { return false }
        let delete = pv.spec?.persistentVolumeReclaimPolicy == "Delete"
        let origin = try await decide(context, about: pv.objectRef, trigger: trigger, .one(delete ? "delete" : "release")) {
            $0.reason = "claim \(ref.namespace ?? "")/\(ref.name ?? "") is gone; reclaim policy \(pv.spec?.persistentVolumeReclaimPolicy ?? "Retain")"
        }
        if delete {
            _ = try? await context.store.delete(.persistentVolume, namespace: nil, name: key.name, by: origin)
        } else {
            var released = pv
            released.status = PersistentVolumeStatus(phase: "Released")
            released.metadata.resourceVersion = nil
            _ = try await context.store.updateStatus(released, by: origin)
        }
        return true
    }
}
