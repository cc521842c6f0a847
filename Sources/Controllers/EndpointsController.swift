import ClusterModel
import ControlPlane
import Journal

/// Keeps each Service's Endpoints: the ready pods matching its selector as `addresses`, the
/// not-ready ones as `notReadyAddresses`. A terminating pod leaves at once.
public final class EndpointsController: Reconciler {
    public init() { super.init(name: "endpoints") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        let key = event.object.key
        switch event.object.kind {
        case Service.kind, Endpoints.kind:
            markDirty(ObjectKey(kind: Service.kind, namespace: key.namespace, name: key.name), event.revision)
        case Pod.kind:
            markSelectingServices(in: key.namespace, cache, event.revision)
        default:
            break
        }
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        let existing = context.cache.get(Endpoints.self, namespace: key.namespace, name: key.name)
        guard let svc = context.cache.get(Service.self, namespace: key.namespace, name: key.name) else {
            guard let existing, existing.metadata.labels?["endpoints.kubejournal.io/managed"] == "true" else { return false }
            let origin = try await decide(context, about: existing.objectRef, trigger: trigger, .one("delete")) { $0.reason = "the service is gone" }
            _ = try? await context.store.delete(.endpoints, namespace: key.namespace, name: key.name, by: origin)
            return true
        }
        guard svc.spec?.selector?.isEmpty == false else { return false }
        let pods = svc.backends(in: context.cache).filter { $0.metadata.deletionTimestamp == nil }
        func address(_ p: Pod) -> EndpointAddress {
            EndpointAddress(ip: p.status!.podIP!, nodeName: p.spec.nodeName, targetRef: ObjectReference(
                kind: Pod.kind, namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid))
        }
        let ready = pods.filter(\.isReady).map(address).sorted { $0.ip < $1.ip }
        let notReady = pods.filter { !$0.isReady }.map(address).sorted { $0.ip < $1.ip }
        let ports = (svc.spec?.ports ?? []).map { sp in
            EndpointPort(port: Service.targetPort(of: sp, on: pods), name: sp.name, protocol: sp.protocol ?? "TCP")
        }
        let subsets = ready.isEmpty && notReady.isEmpty ? nil
            : [EndpointSubset(addresses: ready.isEmpty ? nil : ready, notReadyAddresses: notReady.isEmpty ? nil : notReady, ports: ports)]
        guard existing == nil || existing?.subsets != subsets else { return false }
        let before = Set((existing?.subsets ?? []).flatMap { ($0.addresses ?? []).map(\.ip) })
        let after = Set(ready.map(\.ip))
        let origin = try await decide(context, about: svc.objectRef, trigger: trigger, .one(existing == nil ? "create" : "update")) {
            $0.ready = ready.map { "\($0.targetRef?.name ?? "") \($0.ip)" }
            $0.notReady = notReady.map { "\($0.targetRef?.name ?? "") \($0.ip)" }
            $0.added = after.subtracting(before).sorted()
            $0.removed = before.subtracting(after).sorted()
        }
        if var endpoints = existing {
            endpoints.subsets = subsets
            _ = try await context.store.update(endpoints, by: origin)
        } else {
            var meta = ObjectMeta(name: key.name, namespace: key.namespace, labels: svc.metadata.labels ?? [:])
            meta.labels?["endpoints.kubejournal.io/managed"] = "true"
            _ = try await context.store.create(Endpoints(metadata: meta, subsets: subsets), by: origin)
        }
        return true
    }
}

extension Reconciler {
    /// A pod changed in `namespace`: every Service there that selects pods is looked at again.
    func markSelectingServices(in namespace: String, _ cache: ObjectCache, _ revision: UInt64) {
        for svc in cache.list(Service.self, namespace: namespace) where svc.spec?.selector?.isEmpty == false {
            markDirty(svc.objectKey, revision)
        }
    }
}

extension Service {
    /// The pods behind the Service: those its selector matches that have an address and have not
    /// finished (terminating ones included).
    func backends(in cache: ObjectCache) -> [Pod] {
        guard let selector = spec?.selector, !selector.isEmpty else { return [] }
        let match = LabelSelectorExpression(labels: selector)
        return cache.list(Pod.self, namespace: metadata.namespace ?? "default").filter {
            match.matches($0.metadata.labels ?? [:]) && $0.status?.podIP != nil && !["Succeeded", "Failed"].contains($0.status?.phase ?? "")
        }
    }

    /// The port a Service port reaches on its pods: its `targetPort` number, or the container port of
    /// that name on the first pod that has one, else the Service port itself.
    static func targetPort(of port: ServicePort, on pods: [Pod]) -> Int32 {
        switch port.targetPort {
        case .int(let i): return i
        case .string(let name):
            return pods.lazy.compactMap { $0.spec.containers.lazy.compactMap { $0.ports?.first { $0.name == name }?.containerPort }.first }.first ?? port.port
        case nil: return port.port
        }
    }
}

/// Deletes objects whose owners are all gone (background cascading deletion).
public final class GarbageCollector: Reconciler {
    public init() { super.init(name: "garbage-collector") }

    private var dependents: [String: Set<ObjectKey>] = [:]
    private var uids: [String: ObjectKey] = [:]
    private var owners: [ObjectKey: [String]] = [:]

    public override func observe(_ event: Event, cache: ObjectCache) {
        guard WriteType(rawValue: event.type) != nil else { return }
        let key = event.object.key
        if let old = owners[key] {
            for uid in old {
                dependents[uid]?.remove(key)
                // An owner waiting for its dependents (Orphan, Foreground) looks again.
                if let owner = uids[uid], Self.isFinalizing(cache.get(owner)) { markDirty(owner, event.revision) }
            }
        }
        if Self.isFinalizing(cache.get(key)) { markDirty(key, event.revision) }
        if event.type == WriteType.deleted.rawValue {
            uids[event.object.uid] = nil
            owners[key] = nil
            for dependent in (dependents[event.object.uid] ?? []).sorted() { markDirty(dependent, event.revision) }
            return
        }
        uids[event.object.uid] = key
        let refs = cache.get(key)?.metadata.ownerReferences?.map(\.uid) ?? []
        owners[key] = refs.isEmpty ? nil : refs
        for uid in refs { dependents[uid, default: []].insert(key) }
        if !refs.isEmpty, refs.allSatisfy({ uids[$0] == nil }) { markDirty(key, event.revision) }
    }

    /// The finalizers through which an owner's deletion waits for the garbage collector.
    static let orphanFinalizer = "orphan", foregroundFinalizer = "foregroundDeletion"

    static func isFinalizing(_ o: (any Resource)?) -> Bool {
        guard let o, o.metadata.deletionTimestamp != nil else { return false }
        return (o.metadata.finalizers ?? []).contains { $0 == orphanFinalizer || $0 == foregroundFinalizer }
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        if let owner = context.cache.get(key), Self.isFinalizing(owner) { return try await finalize(owner, trigger: trigger, context) }
        guard let object = context.cache.get(key), object.metadata.deletionTimestamp == nil,
              let refs = object.metadata.ownerReferences, !refs.isEmpty,
              refs.allSatisfy({ uids[$0.uid] == nil }), let kind = ResourceKind(rawValue: key.kind)
        else { return false }
        let origin = try await decide(context, about: object.objectRef, trigger: trigger, .one("delete")) {
            $0.reason = "all owners are gone"
            $0.owners = refs.map { "\($0.kind.lowercased())/\($0.name) (\($0.uid))" }
        }
        _ = try? await context.store.delete(kind, namespace: key.namespace, name: key.name, by: origin)
        return true
    }

    /// An owner deleted with `Orphan` (its dependents released: their references to it removed)
    /// or `Foreground` (its dependents deleted, and waited for); then its finalizer goes, and so
    /// does it.
    private func finalize(_ owner: any Resource, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        let uid = owner.metadata.uid ?? ""
        let orphaning = owner.metadata.finalizers?.contains(Self.orphanFinalizer) == true
        let finalizer = orphaning ? Self.orphanFinalizer : Self.foregroundFinalizer
        let dependents = (dependents[uid] ?? []).sorted().compactMap { context.cache.get($0) }
        let live = dependents.filter { $0.metadata.deletionTimestamp == nil }
        let name = "\(type(of: owner).kind.lowercased())/\(owner.metadata.name ?? "")"
        if !orphaning, !live.isEmpty {
            let origin = try await decide(context, about: owner.objectRef, trigger: trigger, .one("delete-dependents")) {
                $0.reason = "\(name) is deleted with propagationPolicy Foreground"
                $0.pods = live.map { "\(type(of: $0).kind.lowercased())/\($0.metadata.name ?? "")" }
            }
            for d in live {
                _ = try? await context.store.delete(ResourceKind(of: type(of: d)), namespace: d.metadata.namespace, name: d.metadata.name ?? "",
                                                    propagationPolicy: .foreground, by: origin)
            }
            return true
        }
        // Foreground waits until its dependents are gone (their removal brings it back here).
        if !orphaning, !dependents.isEmpty { return false }
        let origin = try await decide(context, about: owner.objectRef, trigger: trigger, .one(orphaning ? "orphan" : "finalize")) {
            $0.reason = orphaning ? "\(name) is deleted with propagationPolicy Orphan: its dependents stay" : "\(name)'s dependents are gone"
            if orphaning { $0.pods = dependents.map { "\(type(of: $0).kind.lowercased())/\($0.metadata.name ?? "")" } }
        }
        if orphaning {
            for d in dependents {
                var released = d
                released.metadata.ownerReferences = released.metadata.ownerReferences?.filter { $0.uid != uid }
                if released.metadata.ownerReferences?.isEmpty == true { released.metadata.ownerReferences = nil }
                released.metadata.resourceVersion = nil
                _ = try? await context.store.update(released, by: origin)
            }
        }
        var done = owner
        done.metadata.finalizers = done.metadata.finalizers?.filter { $0 != finalizer }
        if done.metadata.finalizers?.isEmpty == true { done.metadata.finalizers = nil }
        done.metadata.resourceVersion = nil
        _ = try await context.store.update(done, by: origin)
        return true
    }
}
