import Foundation

// How the kinds of the core, apps and scheduling groups that the control plane's components act
// on are served (see `KindDefinition`). The columns are kubectl's (kubernetes/pkg/printers).

private typealias T = ResourceTable

extension Pod {
    public static let definition = KindDefinition(
        Pod.self, shortNames: ["po"], categories: ["all"], subresources: [.status, .binding, .eviction],
        columns: [T.name, T.col("Ready"), T.col("Status"), T.col("Restarts"), T.ageColumn,
                  T.col("IP", 1), T.col("Node", 1), T.col("Nominated Node", 1), T.col("Readiness Gates", 1)],
        selectableFields: [
            "spec.nodeName": { $0.spec.nodeName ?? "" }, "spec.restartPolicy": { $0.spec.restartPolicy ?? "" },
            "spec.schedulerName": { $0.spec.schedulerName ?? "" }, "status.phase": { $0.status?.phase ?? "" },
            "status.podIP": { $0.status?.podIP ?? "" }, "status.nominatedNodeName": { $0.status?.nominatedNodeName ?? "" },
        ],
        storedCells: { json, now in PodRow(json).cells(now: now) }
    ) { p, now in PodRow(p).cells(now: now) }
}

extension Node {
    public static let definition = KindDefinition(
        Node.self, shortNames: ["no"], subresources: [.status],
        columns: [T.name, T.col("Status"), T.col("Roles"), T.ageColumn, T.col("Version"),
                  T.col("Internal-IP", 1), T.col("External-IP", 1), T.col("OS-Image", 1), T.col("Kernel-Version", 1), T.col("Container-Runtime", 1)],
        selectableFields: ["spec.unschedulable": { String($0.spec?.unschedulable ?? false) }]
    ) { n, now in
        var status = n.condition("Ready").map { $0.status == "True" ? "Ready" : "NotReady" } ?? "Unknown"
        if n.spec?.unschedulable == true { status += ",SchedulingDisabled" }
        let roles = (n.metadata.labels ?? [:]).keys.filter { $0.hasPrefix("node-role.kubernetes.io/") }
            .map { String($0.dropFirst("node-role.kubernetes.io/".count)) }.sorted()
        let info = n.status?.nodeInfo
        let addresses = n.status?.addresses ?? []
        return [n.metadata.name ?? "", status, roles.isEmpty ? "<none>" : roles.joined(separator: ","), T.age(n.metadata.creationTimestamp, now: now),
                info?["kubeletVersion"]?.stringValue ?? "",
                addresses.first { $0.type == "InternalIP" }?.address ?? "<none>",
                addresses.first { $0.type == "ExternalIP" }?.address ?? "<none>",
                info?["osImage"]?.stringValue ?? "<unknown>", info?["kernelVersion"]?.stringValue ?? "<unknown>",
                info?["containerRuntimeVersion"]?.stringValue ?? "<unknown>"]
    }
}

extension Namespace {
    public static let definition = KindDefinition(
        Namespace.self, shortNames: ["ns"], subresources: [.status], columns: [T.name, T.col("Status"), T.ageColumn]
    ) { ns, now in
        [ns.metadata.name ?? "", ns.metadata.deletionTimestamp != nil ? "Terminating" : (ns.status?.phase ?? "Active"), T.age(ns.metadata.creationTimestamp, now: now)]
    }
}

extension Deployment {
    public static let definition = KindDefinition(
        Deployment.self, shortNames: ["deploy"], categories: ["all"], subresources: [.status, .scale],
        columns: [T.name, T.col("Ready"), T.col("Up-to-date", 0, "integer"), T.col("Available", 0, "integer"), T.ageColumn,
                  T.col("Containers", 1), T.col("Images", 1), T.col("Selector", 1)]
    ) { d, now in
        let s = d.status
        return [d.metadata.name ?? "", "\(s?.readyReplicas ?? 0)/\(d.spec.replicas ?? 0)", "\(s?.updatedReplicas ?? 0)", "\(s?.availableReplicas ?? 0)",
                T.age(d.metadata.creationTimestamp, now: now)] + T.workloadWide(d.spec.template, d.spec.selector)
    }
}

extension ReplicaSet {
    public static let definition = KindDefinition(
        ReplicaSet.self, shortNames: ["rs"], categories: ["all"], subresources: [.status, .scale],
        columns: [T.name, T.col("Desired", 0, "integer"), T.col("Current", 0, "integer"), T.col("Ready", 0, "integer"), T.ageColumn,
                  T.col("Containers", 1), T.col("Images", 1), T.col("Selector", 1)]
    ) { rs, now in
        [rs.metadata.name ?? "", "\(rs.spec.replicas ?? 0)", "\(rs.status?.replicas ?? 0)", "\(rs.status?.readyReplicas ?? 0)",
         T.age(rs.metadata.creationTimestamp, now: now)] + T.workloadWide(rs.spec.template, rs.spec.selector)
    }
}

extension Service {
    public static let definition = KindDefinition(
        Service.self, shortNames: ["svc"], categories: ["all"], subresources: [.status],
        columns: [T.name, T.col("Type"), T.col("Cluster-IP"), T.col("External-IP"), T.col("Port(s)"), T.ageColumn, T.col("Selector", 1)]
    ) { s, now in
        let spec = s.spec
        let ports = (spec?.ports ?? []).map { p in (p.nodePort.map { "\(p.port):\($0)" } ?? "\(p.port)") + "/\(p.protocol ?? "TCP")" }
        let selector = (spec?.selector ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        let external = spec?.externalIPs ?? []
        return [s.metadata.name ?? "", spec?.type ?? "ClusterIP", spec?.clusterIP ?? "<none>",
                external.isEmpty ? "<none>" : external.joined(separator: ","),
                ports.isEmpty ? "<none>" : ports.joined(separator: ","), T.age(s.metadata.creationTimestamp, now: now), selector.isEmpty ? "<none>" : selector]
    }
}

extension Endpoints {
    public static let definition = KindDefinition(
        Endpoints.self, shortNames: ["ep"], columns: [T.name, T.col("Endpoints"), T.ageColumn]
    ) { e, now in
        var list: [String] = []
        for subset in e.subsets ?? [] {
            for a in subset.addresses ?? [] {
                for p in subset.ports ?? [EndpointPort(port: 0)] { list.append(p.port == 0 ? a.ip : "\(a.ip):\(p.port)") }
            }
        }
        return [e.metadata.name ?? "", T.firstThree(list), T.age(e.metadata.creationTimestamp, now: now)]
    }
}

extension CoreEvent {
    public static let definition = KindDefinition(
        CoreEvent.self, shortNames: ["ev"],
        columns: [T.col("Last Seen"), T.col("Type"), T.col("Reason"), T.col("Object"), T.col("Message"),
                  T.col("Subobject", 1), T.col("Source", 1), T.col("First Seen", 1), T.col("Count", 1), T.col("Name", 1)],
        selectableFields: [
            "involvedObject.kind": { $0.involvedObject.kind ?? "" }, "involvedObject.namespace": { $0.involvedObject.namespace ?? "" },
            "involvedObject.name": { $0.involvedObject.name ?? "" }, "involvedObject.uid": { $0.involvedObject.uid ?? "" },
            "reason": { $0.reason ?? "" }, "type": { $0.type ?? "" }, "source": { $0.source?.component ?? "" },
        ]
    ) { e, now in
        let last = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp
        let object = "\((e.involvedObject.kind ?? "").lowercased())/\(e.involvedObject.name ?? "")"
        return [T.age(last, now: now), e.type ?? "", e.reason ?? "", object, e.message ?? "",
                e.involvedObject.fieldPath ?? "", e.source?.component ?? e.reportingComponent ?? "",
                T.age(e.firstTimestamp ?? last, now: now), "\(e.count ?? 1)", e.metadata.name ?? ""]
    }
}

extension PriorityClass {
    public static let definition = KindDefinition(
        PriorityClass.self, shortNames: ["pc"],
        columns: [T.name, T.col("Value", 0, "integer"), T.col("Global-Default", 0, "boolean"), T.ageColumn, T.col("PreemptionPolicy")]
    ) { pc, now in
        [pc.metadata.name ?? "", "\(pc.value)", "\(pc.globalDefault ?? false)", T.age(pc.metadata.creationTimestamp, now: now), pc.preemptionPolicy ?? "PreemptLowerPriority"]
    }
}

extension ResourceTable {
    /// kubectl's way of listing many addresses in a cell: the first three, then `+ N more...`.
    static func firstThree(_ list: [String]) -> String {
        list.isEmpty ? "<none>" : list.prefix(3).joined(separator: ",") + (list.count > 3 ? " + \(list.count - 3) more..." : "")
    }
}
