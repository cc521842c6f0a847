import ClusterModel
import ControlPlane
import Journal

/// kube-controller-manager's EndpointSlice controller: for each Service with a selector, slices of
/// at most 100 endpoints (one, empty, when no pod matches), named after the Service, labelled with
/// it and owned by it (the garbage collector removes them with it). Unlike the Endpoints object, a
/// slice keeps a terminating pod, marked `terminating` and no longer `ready`, until it is gone.
public final class EndpointSliceController: Reconciler {
    /// The value of `endpointslice.kubernetes.io/managed-by` on the slices this controller owns.
    public static let managerName = "endpointslice-controller.k8s.io"
    /// The most endpoints one slice holds (`--max-endpoints-per-slice`).
    static let maxEndpointsPerSlice = 100

    /// The Service each known slice belongs to, so that a deleted slice brings its Service back.
    private var sliceOwners: [ObjectKey: ObjectKey] = [:]

    public init() { super.init(name: "endpointslice") }

    public override func observe(_ event: Event, cache: ObjectCache) {
        let key = event.object.key
        switch event.object.kind {
        case Service.kind:
            markDirty(key, event.revision)
        case EndpointSlice.kind:
            if let slice = cache.get(EndpointSlice.self, namespace: key.namespace, name: key.name),
               slice.metadata.labels?[EndpointSlice.managedByLabel] == Self.managerName,
               let service = slice.metadata.labels?[EndpointSlice.serviceNameLabel] {
                sliceOwners[key] = ObjectKey(kind: Service.kind, namespace: key.namespace, name: service)
            }
            if let owner = sliceOwners[key] { markDirty(owner, event.revision) }
            if event.type == WriteType.deleted.rawValue { sliceOwners[key] = nil }
        case Pod.kind:
            markSelectingServices(in: key.namespace, cache, event.revision)
        default:
            break
        }
    }

    override func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        guard let svc = context.cache.get(Service.self, namespace: key.namespace, name: key.name), svc.metadata.deletionTimestamp == nil,
              svc.spec?.selector?.isEmpty == false else { return false }
        let pods = svc.backends(in: context.cache)
        let endpoints = pods.map { p -> SliceEndpoint in
            let terminating = p.metadata.deletionTimestamp != nil
            var e = SliceEndpoint(
                addresses: [p.status!.podIP!],
                conditions: EndpointConditions(ready: p.isReady && !terminating, serving: p.isReady, terminating: terminating),
                nodeName: p.spec.nodeName,
                targetRef: ObjectReference(kind: Pod.kind, namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid))
            e.zone = p.spec.nodeName.flatMap { context.cache.get(Node.self, name: $0)?.metadata.labels?["topology.kubernetes.io/zone"] }
            return e
        }.sorted { $0.addresses[0] < $1.addresses[0] }
        let ports = (svc.spec?.ports ?? []).map { sp in
            SlicePort(name: sp.name ?? "", protocol: sp.protocol ?? "TCP", port: Service.targetPort(of: sp, on: pods))
        }
        let chunks = endpoints.isEmpty ? [[]] : stride(from: 0, to: endpoints.count, by: Self.maxEndpointsPerSlice).map {
            Array(endpoints[$0..<min($0 + Self.maxEndpointsPerSlice, endpoints.count)])
        }
        let existing = context.cache.list(EndpointSlice.self, namespace: key.namespace).filter {
            $0.metadata.labels?[EndpointSlice.serviceNameLabel] == key.name && $0.metadata.labels?[EndpointSlice.managedByLabel] == Self.managerName
        }.sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
        var labels = svc.metadata.labels ?? [:]
        labels[EndpointSlice.serviceNameLabel] = key.name
        labels[EndpointSlice.managedByLabel] = Self.managerName

        var steps: [String] = []
        var updates: [EndpointSlice] = [], creates: [EndpointSlice] = []
        for (i, chunk) in chunks.enumerated() {
            if i < existing.count {
                var slice = existing[i]
                guard slice.endpoints ?? [] != chunk || slice.ports != ports || slice.metadata.labels != labels else { continue }
                slice.endpoints = chunk
                slice.ports = ports
                slice.metadata.labels = labels
                updates.append(slice)
                steps.append("update \(slice.metadata.name ?? "") (\(chunk.count) endpoint(s))")
            } else {
                var meta = ObjectMeta(namespace: key.namespace, labels: labels)
                meta.generateName = key.name + "-"
                meta.ownerReferences = [OwnerReference(apiVersion: Service.apiVersion, kind: Service.kind, name: key.name,
                                                       uid: svc.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)]
                creates.append(EndpointSlice(metadata: meta, addressType: "IPv4", endpoints: chunk, ports: ports))
                steps.append("create a slice (\(chunk.count) endpoint(s))")
            }
        }
        let surplus = existing.dropFirst(chunks.count)
        steps += surplus.map { "delete \($0.metadata.name ?? "")" }
        guard !steps.isEmpty else { return false }
        let ready = endpoints.filter { $0.conditions?.ready == true }, notReady = endpoints.filter { $0.conditions?.ready != true }
        let origin = try await decide(context, about: svc.objectRef, trigger: trigger, steps.count == 1 ? .one(steps[0]) : .steps(steps)) {
            $0.ready = ready.map { "\($0.targetRef?.name ?? "") \($0.addresses[0])" }
            $0.notReady = notReady.map { "\($0.targetRef?.name ?? "") \($0.addresses[0])" + ($0.conditions?.terminating == true ? " (terminating)" : "") }
        }
        for slice in updates { _ = try await context.store.update(slice, by: origin) }
        for slice in creates { _ = try await context.store.create(slice, by: origin) }
        for slice in surplus { _ = try? await context.store.delete(.endpointSlice, namespace: key.namespace, name: slice.metadata.name ?? "", by: origin) }
        return true
    }
}
