import ClusterModel
import ControlPlane
import Journal

/// kube-controller-manager's service account controller: every active namespace has a
/// ServiceAccount named `default`, made when the namespace appears and again if it is deleted.
/// Each creation is a decision whose trigger is the namespace's creation (or the account's
/// deletion), so `kj why serviceaccount/default` names the namespace.
public final class ServiceAccountController: Reconciler {
    public init() { super.init(name: "serviceaccount") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        guard let type = WriteType(rawValue: event.type) else { return }
        switch event.object.kind {
        case Namespace.kind where type == .created || type == .updated:
            markDirty(event.object.key, event.revision)
        case ServiceAccount.kind where type == .deleted && event.object.name == ServiceAccount.defaultName:
            markDirty(ObjectKey(kind: Namespace.kind, name: event.object.namespace), event.revision)
        default:
            break
        }
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard let ns = context.cache.get(Namespace.self, name: key.name), ns.metadata.deletionTimestamp == nil,
              context.cache.get(ServiceAccount.self, namespace: key.name, name: ServiceAccount.defaultName) == nil else { return false }
        let account = ServiceAccount(metadata: ObjectMeta(name: ServiceAccount.defaultName, namespace: key.name))
        let origin = try await decide(context, about: ns.objectRef, trigger: trigger, .one("create")) {
            $0.reason = "namespace \(key.name) has no service account \(ServiceAccount.defaultName)"
        }
        do {
            _ = try await context.store.create(account, by: origin)
            accepted(key)
        } catch {
            // Made by someone else since the cache was read: nothing to do.
            if error.reason == .alreadyExists { return true }
            guard Self.isRefusal(error) else { throw error }
            try await refused(error, key: key, about: ns, reason: "FailedCreate", message: "Error creating: \(error)", context, cause: origin.cause)
        }
        return true
    }
}
