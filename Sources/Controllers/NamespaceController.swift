import ClusterModel
import ControlPlane
import Journal

/// kube-controller-manager's namespace controller: a namespace being deleted (Terminating) has
/// everything in it deleted — pods gracefully, as any client's deletion — and once it holds
/// nothing, the namespace goes. Each pass is a decision whose trigger is the namespace's deletion
/// (or the latest change inside it), so `kj history namespace/NAME` shows the cascade.
public final class NamespaceController: Reconciler {
    /// Terminating namespaces, by name.
    private var terminating: Set<String> = []

    public init() { super.init(name: "namespace") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        guard WriteType(rawValue: event.type) != nil else { return }
        if event.object.kind == Namespace.kind {
            let name = event.object.name
            if let ns = cache.get(Namespace.self, name: name), ns.metadata.deletionTimestamp != nil {
                terminating.insert(name)
                markDirty(event.object.key, event.revision)
            } else {
                terminating.remove(name)
            }
        } else if terminating.contains(event.object.namespace) {
            // Something inside changed (most often: went away): look again.
            markDirty(ObjectKey(kind: Namespace.kind, name: event.object.namespace), event.revision)
        }
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard let ns = context.cache.get(Namespace.self, name: key.name), ns.metadata.deletionTimestamp != nil else { return false }
        let contents = ResourceKind.allCases.filter(\.namespaced).flatMap { context.cache.list($0.type, namespace: key.name) }
        let remaining = contents.filter { $0.metadata.deletionTimestamp == nil }
        if contents.isEmpty {
            let origin = try await decide(context, about: ns.objectRef, trigger: trigger, .one("finalize")) { $0.reason = "namespace \(key.name) is empty" }
            try await context.store.finalizeNamespace(key.name, by: origin)
            return true
        }
        // Objects already going (pods in their grace period) are waited for; their removal brings
        // the namespace back here.
        guard !remaining.isEmpty else { return false }
        var counts: [String: Int] = [:]
        for o in remaining { counts[type(of: o).plural, default: 0] += 1 }
        let origin = try await decide(context, about: ns.objectRef, trigger: trigger, .one("delete-content")) {
            $0.reason = "namespace \(key.name) is being deleted"
            $0.objects = counts.mapValues { Int64($0) }
        }
        for o in remaining.sorted(by: { ($0.objectKey) < ($1.objectKey) }) {
            try Task.checkCancellation()
            _ = try? await context.store.delete(ResourceKind(of: type(of: o)), namespace: key.name, name: o.metadata.name ?? "", by: origin)
        }
        return true
    }
}
