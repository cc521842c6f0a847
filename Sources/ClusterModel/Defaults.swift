/// Kubernetes' defaulting for the fields KubeJournal serves (what the API server fills in before
/// validation), including the DefaultTolerationSeconds admission plugin's tolerations.
public enum Defaults {
    /// The tolerations for not-ready and unreachable nodes every pod gets (300 s), unless it
    /// already tolerates those taints.
    public static let defaultTolerationSeconds: Int64 = 300
    public static let notReadyTaint = "node.kubernetes.io/not-ready"
    public static let unreachableTaint = "node.kubernetes.io/unreachable"

    /// The DefaultTolerationSeconds admission plugin's settings (kube-apiserver's
    /// `--default-not-ready-toleration-seconds` and `--default-unreachable-toleration-seconds`).
    public struct Admission: Sendable, Equatable {
        public var notReadyTolerationSeconds: Int64
        public var unreachableTolerationSeconds: Int64

        public init(notReadyTolerationSeconds: Int64 = Defaults.defaultTolerationSeconds, unreachableTolerationSeconds: Int64 = Defaults.defaultTolerationSeconds) {
            self.notReadyTolerationSeconds = notReadyTolerationSeconds
            self.unreachableTolerationSeconds = unreachableTolerationSeconds
        }
    }

    /// `object` with defaults applied, and a pod's tolerations admitted as `admission` says.
    public static func apply<R: Resource>(_ object: R, admission: Admission = Admission()) -> R {
        switch object {
        case var pod as Pod:
            pod.spec = podSpec(pod.spec)
            pod.spec.tolerations = admitTolerations(pod.spec.tolerations, admission)
            if pod.status == nil { pod.status = PodStatus(phase: "Pending") }
            if pod.status?.phase == nil { pod.status?.phase = "Pending" }
            return pod as! R
        case var pc as PriorityClass:
            if pc.preemptionPolicy == nil { pc.preemptionPolicy = "PreemptLowerPriority" }
            return pc as! R
        case var rs as ReplicaSet:
            if rs.spec.replicas == nil { rs.spec.replicas = 1 }
            if let t = rs.spec.template { rs.spec.template = template(t) }
            if rs.metadata.labels == nil { rs.metadata.labels = rs.spec.template?.metadata?.labels }
            return rs as! R
        case var d as Deployment:
            if d.spec.replicas == nil { d.spec.replicas = 1 }
            d.spec.template = template(d.spec.template)
            if d.spec.strategy == nil { d.spec.strategy = DeploymentStrategy() }
            if d.spec.strategy?.type == nil { d.spec.strategy?.type = "RollingUpdate" }
            if d.spec.strategy?.type == "RollingUpdate" {
                var ru = d.spec.strategy?.rollingUpdate ?? RollingUpdateDeployment()
                if ru.maxSurge == nil { ru.maxSurge = .string("25%") }
                if ru.maxUnavailable == nil { ru.maxUnavailable = .string("25%") }
                d.spec.strategy?.rollingUpdate = ru
            }
            if d.spec.revisionHistoryLimit == nil { d.spec.revisionHistoryLimit = 10 }
            if d.spec.progressDeadlineSeconds == nil { d.spec.progressDeadlineSeconds = 600 }
            if d.metadata.labels == nil { d.metadata.labels = d.spec.template.metadata?.labels }
            return d as! R
        case var s as Service:
            var spec = s.spec ?? ServiceSpec()
            if spec.type == nil { spec.type = "ClusterIP" }
            if spec.sessionAffinity == nil { spec.sessionAffinity = "None" }
            spec.ports = spec.ports?.map { p in
                var p = p
                if p.protocol == nil { p.protocol = "TCP" }
                if p.targetPort == nil { p.targetPort = .int(p.port) }
                return p
            }
            s.spec = spec
            return s as! R
        case var e as CoreEvent:
            if e.type == nil { e.type = "Normal" }
            if e.count == nil { e.count = 1 }
            return e as! R
        case var n as Namespace:
            // `status: {}` (what kubectl's generator sends) is no phase either.
            if n.status?.phase == nil { n.status = NamespaceStatus(phase: "Active") }
            return n as! R
        default:
            return object
        }
    }

    static func template(_ t: PodTemplateSpec) -> PodTemplateSpec {
        var t = t
        t.spec = podSpec(t.spec)
        return t
    }

    static func podSpec(_ s: PodSpec) -> PodSpec {
        var s = s
        if s.restartPolicy == nil { s.restartPolicy = "Always" }
        if s.terminationGracePeriodSeconds == nil { s.terminationGracePeriodSeconds = 30 }
        if s.dnsPolicy == nil { s.dnsPolicy = "ClusterFirst" }
        if s.schedulerName == nil { s.schedulerName = "default-scheduler" }
        if s.enableServiceLinks == nil { s.enableServiceLinks = true }
        if s.securityContext == nil { s.securityContext = .object([:]) }
        s.containers = s.containers.map(container)
        s.initContainers = s.initContainers?.map(container)
        return s
    }

    static func container(_ c: Container) -> Container {
        var c = c
        if c.imagePullPolicy == nil {
            let image = c.image ?? ""
            let tag = image.split(separator: "/").last.flatMap { $0.split(separator: ":", maxSplits: 1).dropFirst().first }
            c.imagePullPolicy = (tag == nil || tag == "latest") && !image.contains("@") ? "Always" : "IfNotPresent"
        }
        if c.terminationMessagePath == nil { c.terminationMessagePath = "/dev/termination-log" }
        if c.terminationMessagePolicy == nil { c.terminationMessagePolicy = "File" }
        if c.resources == nil { c.resources = ResourceRequirements() }
        // A limit without a request requests the limit.
        if let limits = c.resources?.limits {
            for (k, v) in limits where c.resources?.requests?[k] == nil {
                if c.resources?.requests == nil { c.resources?.requests = [:] }
                c.resources?.requests?[k] = v
            }
        }
        c.ports = c.ports?.map { p in
            var p = p
            if p.protocol == nil { p.protocol = "TCP" }
            return p
        }
        return c
    }

    static func admitTolerations(_ list: [Toleration]?, _ admission: Admission) -> [Toleration]? {
        var list = list ?? []
        for (key, seconds) in [(notReadyTaint, admission.notReadyTolerationSeconds), (unreachableTaint, admission.unreachableTolerationSeconds)] {
            let tolerated = list.contains { t in
                (t.key == key || (t.key ?? "").isEmpty && t.operator == "Exists") && (t.effect == nil || t.effect == "" || t.effect == "NoExecute")
            }
            if !tolerated {
                list.append(Toleration(key: key, operator: "Exists", effect: "NoExecute", tolerationSeconds: seconds))
            }
        }
        return list
    }
}
