import ClusterModel
import ControlPlane
import Journal

/// kube-controller-manager's resource quota controller: keeps each ResourceQuota's status — its
/// hard limits and what the namespace uses of each — as the objects it counts come and go.
/// (Admission, which refuses what would exceed a quota, counts for itself; this is the record
/// `kubectl describe quota` shows.)
public final class ResourceQuotaController: Reconciler {
    public init() { super.init(name: "resourcequota") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        guard WriteType(rawValue: event.type) != nil, ResourceKind(rawValue: event.object.kind) != nil else { return }
        let key = event.object.key
        if event.object.kind == ResourceQuota.kind {
            markDirty(key, event.revision)
        } else if !key.namespace.isEmpty {
            for quota in cache.list(ResourceQuota.self, namespace: key.namespace) { markDirty(quota.objectKey, event.revision) }
        }
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard let quota = context.cache.get(ResourceQuota.self, namespace: key.namespace, name: key.name), quota.metadata.deletionTimestamp == nil else { return false }
        let hard = quota.spec?.hard ?? [:]
        let names = Set(hard.keys).filter(ResourceUsage.tracks)
        let objects = ResourceUsage.kinds(counting: names).flatMap { context.cache.list($0.type, namespace: key.namespace) }
        let status = ResourceQuotaStatus(hard: hard, used: ResourceUsage.total(objects, of: names))
        guard status != quota.status else { return false }
        let origin = try await decide(context, about: quota.objectRef, trigger: trigger, .one("update-status")) {
            $0.reason = names.sorted().map { "\($0) \(status.used?[$0]?.description ?? "0")/\(hard[$0]!.description)" }.joined(separator: ", ")
        }
        var updated = quota
        updated.status = status
        updated.metadata.resourceVersion = nil
        _ = try await context.store.updateStatus(updated, by: origin)
        return true
    }
}
