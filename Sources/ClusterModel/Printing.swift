import Foundation

/// kubectl's columns for each kind — what `kubectl get` prints, and what the API serves as a
/// `Table` (`as=Table`). Cells are text; the caller aligns or serializes them.
public struct ResourceTable: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: String
        /// 0 for default columns, 1 for those `-o wide` adds.
        public var priority: Int
        public var description: String
    }

    public var columns: [Column]
    public var rows: [[String]]

    /// The table of `objects` of `kind`, ages measured at `now`.
    public static func make(_ kind: ResourceKind, _ objects: [any Resource], now: Date) -> ResourceTable {
        let spec = columns(kind)
        return ResourceTable(columns: spec, rows: objects.map { cells(kind, $0, now: now) })
    }

    /// Column names shown with or without `wide`.
    public func visibleColumns(wide: Bool) -> [Int] {
        columns.indices.filter { wide || columns[$0].priority == 0 }
    }

    static func col(_ name: String, _ priority: Int = 0, _ type: String = "string", _ description: String = "") -> Column {
        Column(name: name, type: type, priority: priority, description: description)
    }

    static func columns(_ kind: ResourceKind) -> [Column] {
        let name = col("Name", 0, "string", "Name must be unique within a namespace.")
        let age = col("Age", 0, "string", "CreationTimestamp is a timestamp representing the server time when this object was created.")
        switch kind {
        case .pod:
            return [name, col("Ready"), col("Status"), col("Restarts", 0, "string"), age,
                    col("IP", 1), col("Node", 1), col("Nominated Node", 1), col("Readiness Gates", 1)]
        case .node:
            return [name, col("Status"), col("Roles"), age, col("Version"),
                    col("Internal-IP", 1), col("External-IP", 1), col("OS-Image", 1), col("Kernel-Version", 1), col("Container-Runtime", 1)]
        case .deployment:
            return [name, col("Ready"), col("Up-to-date", 0, "integer"), col("Available", 0, "integer"), age,
                    col("Containers", 1), col("Images", 1), col("Selector", 1)]
        case .replicaSet:
            return [name, col("Desired", 0, "integer"), col("Current", 0, "integer"), col("Ready", 0, "integer"), age,
                    col("Containers", 1), col("Images", 1), col("Selector", 1)]
        case .service:
            return [name, col("Type"), col("Cluster-IP"), col("External-IP"), col("Port(s)"), age, col("Selector", 1)]
        case .endpoints:
            return [name, col("Endpoints"), age]
        case .namespace:
            return [name, col("Status"), age]
        case .priorityClass:
            return [name, col("Value", 0, "integer"), col("Global-Default", 0, "boolean"), age, col("PreemptionPolicy")]
        case .event:
            return [col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Message"),
                    col("Subobject", 1), col("Source", 1), col("First Seen", 1), col("Count", 1), col("Name", 1)]
        }
    }

    static func cells(_ kind: ResourceKind, _ o: any Resource, now: Date) -> [String] {
        let name = o.metadata.name ?? ""
        let age = Self.age(o.metadata.creationTimestamp, now: now)
        switch o {
        case let p as Pod:
            let statuses = p.status?.containerStatuses ?? []
            let ready = statuses.filter(\.ready).count
            let restarts = statuses.reduce(0) { $0 + Int($1.restartCount) }
            var restartText = "\(restarts)"
            if restarts > 0, let last = statuses.compactMap({ $0.lastState?.terminated?.finishedAt }).max() {
                restartText += " (\(Self.age(last, now: now)) ago)"
            }
            let ip = p.status?.podIP ?? "<none>"
            let gates = (p.spec.readinessGates?.arrayValue?.count ?? 0) == 0 ? "<none>" : "\(p.spec.readinessGates!.arrayValue!.count)"
            return [name, "\(ready)/\(p.spec.containers.count)", podStatus(p), restartText, age,
                    ip, p.spec.nodeName ?? "<none>", p.status?.nominatedNodeName ?? "<none>", gates]
        case let n as Node:
            var status = n.condition("Ready").map { $0.status == "True" ? "Ready" : "NotReady" } ?? "Unknown"
            if n.spec?.unschedulable == true { status += ",SchedulingDisabled" }
            let roles = (n.metadata.labels ?? [:]).keys.filter { $0.hasPrefix("node-role.kubernetes.io/") }
                .map { String($0.dropFirst("node-role.kubernetes.io/".count)) }.sorted()
            let info = n.status?.nodeInfo
            let addresses = n.status?.addresses ?? []
            return [name, status, roles.isEmpty ? "<none>" : roles.joined(separator: ","), age,
                    info?["kubeletVersion"]?.stringValue ?? "",
                    addresses.first { $0.type == "InternalIP" }?.address ?? "<none>",
                    addresses.first { $0.type == "ExternalIP" }?.address ?? "<none>",
                    info?["osImage"]?.stringValue ?? "<unknown>", info?["kernelVersion"]?.stringValue ?? "<unknown>",
                    info?["containerRuntimeVersion"]?.stringValue ?? "<unknown>"]
        case let d as Deployment:
            let s = d.status
            let containers = d.spec.template.spec.containers
            return [name, "\(s?.readyReplicas ?? 0)/\(d.spec.replicas ?? 0)", "\(s?.updatedReplicas ?? 0)", "\(s?.availableReplicas ?? 0)", age,
                    containers.map(\.name).joined(separator: ","), containers.map { $0.image ?? "" }.joined(separator: ","),
                    LabelSelectorExpression(d.spec.selector).description]
        case let rs as ReplicaSet:
            let containers = rs.spec.template?.spec.containers ?? []
            return [name, "\(rs.spec.replicas ?? 0)", "\(rs.status?.replicas ?? 0)", "\(rs.status?.readyReplicas ?? 0)", age,
                    containers.map(\.name).joined(separator: ","), containers.map { $0.image ?? "" }.joined(separator: ","),
                    LabelSelectorExpression(rs.spec.selector).description]
        case let s as Service:
            let spec = s.spec
            let ports = (spec?.ports ?? []).map { p in
                (p.nodePort.map { "\(p.port):\($0)" } ?? "\(p.port)") + "/\(p.protocol ?? "TCP")"
            }
            let selector = (spec?.selector ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return [name, spec?.type ?? "ClusterIP", spec?.clusterIP ?? "<none>",
                    (spec?.externalIPs ?? []).isEmpty ? "<none>" : spec!.externalIPs!.joined(separator: ","),
                    ports.isEmpty ? "<none>" : ports.joined(separator: ","), age, selector.isEmpty ? "<none>" : selector]
        case let e as Endpoints:
            var list: [String] = []
            for subset in e.subsets ?? [] {
                for a in subset.addresses ?? [] {
                    for p in subset.ports ?? [EndpointPort(port: 0)] { list.append(p.port == 0 ? a.ip : "\(a.ip):\(p.port)") }
                }
            }
            let shown = list.prefix(3).joined(separator: ",") + (list.count > 3 ? " + \(list.count - 3) more..." : "")
            return [name, list.isEmpty ? "<none>" : shown, age]
        case let pc as PriorityClass:
            return [name, "\(pc.value)", "\(pc.globalDefault ?? false)", age, pc.preemptionPolicy ?? "PreemptLowerPriority"]
        case let ns as Namespace:
            return [name, ns.metadata.deletionTimestamp != nil ? "Terminating" : (ns.status?.phase ?? "Active"), age]
        case let e as CoreEvent:
            let last = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp
            let object = "\((e.involvedObject.kind ?? "").lowercased())/\(e.involvedObject.name ?? "")"
            return [Self.age(last, now: now), e.type ?? "", e.reason ?? "", object, e.message ?? "",
                    e.involvedObject.fieldPath ?? "", e.source?.component ?? e.reportingComponent ?? "",
                    Self.age(e.firstTimestamp ?? last, now: now), "\(e.count ?? 1)", name]
        default:
            return [name, age]
        }
    }

    /// The STATUS column of `kubectl get pods`.
    public static func podStatus(_ p: Pod) -> String {
        var reason = p.status?.reason ?? p.status?.phase ?? "Pending"
        for c in (p.status?.containerStatuses ?? []).reversed() {
            if let w = c.state?.waiting?.reason, !w.isEmpty {
                reason = w
            } else if let t = c.state?.terminated {
                reason = t.reason ?? (t.signal.map { "Signal:\($0)" } ?? "ExitCode:\(t.exitCode)")
            } else if c.ready, c.state?.running != nil {
                continue
            }
        }
        if p.metadata.deletionTimestamp != nil, p.status?.reason != "NodeLost" { reason = "Terminating" }
        return reason
    }

    /// kubectl's human durations: `45s`, `5m12s`, `3h`, `2d4h`, `400d`.
    public static func humanDuration(seconds: Int64) -> String {
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 { let d = (hours / 24) % 365; return d == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(d)d" }
        return "\(hours / 24 / 365)y"
    }

    /// The age of an RFC 3339 time at `now` (`<unknown>` if unparseable).
    public static func age(_ time: String?, now: Date) -> String {
        guard let time, let date = parseTime(time) else { return "<unknown>" }
        return humanDuration(seconds: Int64(now.timeIntervalSince(date).rounded(.down)))
    }

    /// Parses Kubernetes times (`2026-01-01T10:00:00Z`, with optional fraction). The format styles
    /// parse in Swift; an `ISO8601DateFormatter` made per call cost ~0.2 ms (ICU set-up), which
    /// was most of `kj get pods` on thousands of pods.
    public static func parseTime(_ s: String) -> Date? {
        (try? wholeSeconds.parse(s)) ?? (try? fractionalSeconds.parse(s))
    }

    private static let wholeSeconds = Date.ISO8601FormatStyle()
    private static let fractionalSeconds = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
