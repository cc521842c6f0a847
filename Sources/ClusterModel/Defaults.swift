import Foundation

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
            // The ServiceAccount admission plugin's account, and core/v1's copy of it in the
            // deprecated `serviceAccount`.
            if (pod.spec.serviceAccountName ?? "").isEmpty {
                pod.spec.serviceAccountName = (pod.spec.serviceAccount ?? "").isEmpty ? ServiceAccount.defaultName : pod.spec.serviceAccount
            }
            pod.spec.serviceAccount = pod.spec.serviceAccountName
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
            if spec.type != "ExternalName", spec.internalTrafficPolicy == nil { spec.internalTrafficPolicy = "Cluster" }
            if spec.type == "NodePort" || spec.type == "LoadBalancer", spec.externalTrafficPolicy == nil { spec.externalTrafficPolicy = "Cluster" }
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
        case var s as Secret:
            if s.type == nil { s.type = "Opaque" }
            // kube-apiserver's conversion: stringData is write-only, its values replace data's.
            if let plain = s.stringData {
                var data = s.data ?? [:]
                for (k, v) in plain { data[k] = Data(v.utf8).base64EncodedString() }
                s.data = data
                s.stringData = nil
            }
            return s as! R
        case var pv as PersistentVolume:
            if pv.spec?.persistentVolumeReclaimPolicy == nil { pv.spec?.persistentVolumeReclaimPolicy = "Retain" }
            if pv.spec?.volumeMode == nil { pv.spec?.volumeMode = "Filesystem" }
            if pv.status?.phase == nil { pv.status = PersistentVolumeStatus(phase: "Pending") }
            return pv as! R
        case let pvc as PersistentVolumeClaim:
            return claim(pvc) as! R
        case var sc as StorageClass:
            if sc.reclaimPolicy == nil { sc.reclaimPolicy = "Delete" }
            if sc.volumeBindingMode == nil { sc.volumeBindingMode = "Immediate" }
            return sc as! R
        case var lr as LimitRange:
            if let limits = lr.spec?.limits { lr.spec?.limits = limits.map(limitRangeItem) }
            return lr as! R
        case var sts as StatefulSet:
            if sts.spec.replicas == nil { sts.spec.replicas = 1 }
            if sts.spec.podManagementPolicy == nil { sts.spec.podManagementPolicy = "OrderedReady" }
            if sts.spec.updateStrategy == nil { sts.spec.updateStrategy = StatefulSetUpdateStrategy(type: "RollingUpdate") }
            if sts.spec.updateStrategy?.type == "RollingUpdate", sts.spec.updateStrategy?.rollingUpdate == nil {
                sts.spec.updateStrategy?.rollingUpdate = RollingUpdateStatefulSet(partition: 0)
            }
            if sts.spec.revisionHistoryLimit == nil { sts.spec.revisionHistoryLimit = 10 }
            if sts.spec.persistentVolumeClaimRetentionPolicy == nil {
                sts.spec.persistentVolumeClaimRetentionPolicy = ["whenDeleted": "Retain", "whenScaled": "Retain"]
            }
            sts.spec.template = template(sts.spec.template)
            sts.spec.volumeClaimTemplates = sts.spec.volumeClaimTemplates?.map { t in
                var t = claim(t)
                t.apiVersion = t.apiVersion ?? PersistentVolumeClaim.apiVersion
                t.kind = t.kind ?? PersistentVolumeClaim.kind
                return t
            }
            return sts as! R
        case var ds as DaemonSet:
            var strategy = ds.spec.updateStrategy ?? DaemonSetUpdateStrategy(type: "RollingUpdate")
            if strategy.type == nil { strategy.type = "RollingUpdate" }
            if strategy.type == "RollingUpdate" {
                var ru = strategy.rollingUpdate ?? RollingUpdateDeployment()
                if ru.maxUnavailable == nil { ru.maxUnavailable = .int(1) }
                if ru.maxSurge == nil { ru.maxSurge = .int(0) }
                strategy.rollingUpdate = ru
            }
            ds.spec.updateStrategy = strategy
            if ds.spec.revisionHistoryLimit == nil { ds.spec.revisionHistoryLimit = 10 }
            ds.spec.template = template(ds.spec.template)
            return ds as! R
        case var job as Job:
            job.spec = jobSpec(job.spec)
            return job as! R
        case var cj as CronJob:
            if cj.spec.concurrencyPolicy == nil { cj.spec.concurrencyPolicy = "Allow" }
            if cj.spec.suspend == nil { cj.spec.suspend = false }
            if cj.spec.successfulJobsHistoryLimit == nil { cj.spec.successfulJobsHistoryLimit = 3 }
            if cj.spec.failedJobsHistoryLimit == nil { cj.spec.failedJobsHistoryLimit = 1 }
            cj.spec.jobTemplate.spec = jobSpec(cj.spec.jobTemplate.spec)
            return cj as! R
        case var hpa as HorizontalPodAutoscaler:
            if hpa.spec.minReplicas == nil { hpa.spec.minReplicas = 1 }
            if hpa.spec.metrics == nil {
                hpa.spec.metrics = [["type": "Resource", "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": 80]]]]
            }
            return hpa as! R
        case var slice as EndpointSlice:
            slice.ports = slice.ports?.map { p in
                var p = p
                if p.protocol == nil { p.protocol = "TCP" }
                return p
            }
            return slice as! R
        default:
            return object
        }
    }

    /// A claim's defaults: a filesystem volume, `Pending` until bound.
    static func claim(_ c: PersistentVolumeClaim) -> PersistentVolumeClaim {
        var c = c
        if c.spec?.volumeMode == nil { c.spec?.volumeMode = "Filesystem" }
        if c.status?.phase == nil { c.status = PersistentVolumeClaimStatus(phase: "Pending") }
        return c
    }

    /// A Job's defaults (also its CronJob's template's): one pod at a time to one completion,
    /// six retries. The pod template's restart policy is defaulted as every pod's is, so a Job
    /// that names none is refused, as in Kubernetes.
    static func jobSpec(_ s: JobSpec) -> JobSpec {
        var s = s
        if s.completions == nil, s.parallelism == nil { s.completions = 1 }
        if s.parallelism == nil { s.parallelism = 1 }
        if s.backoffLimit == nil { s.backoffLimit = 6 }
        if s.completionMode == nil { s.completionMode = "NonIndexed" }
        if s.suspend == nil { s.suspend = false }
        if s.podReplacementPolicy == nil { s.podReplacementPolicy = "TerminatingOrFailed" }
        s.template = template(s.template)
        return s
    }

    /// A LimitRange item's defaults (kube-apiserver's `SetDefaults_LimitRangeItem`): a container's
    /// default limit is the maximum, its default request the default limit, else the minimum.
    static func limitRangeItem(_ item: LimitRangeItem) -> LimitRangeItem {
        guard item.type == "Container" else { return item }
        var item = item
        for (k, v) in item.max ?? [:] where item.default?[k] == nil {
            item.default = (item.default ?? [:]).merging([k: v]) { a, _ in a }
        }
        for (k, v) in item.default ?? [:] where item.defaultRequest?[k] == nil {
            item.defaultRequest = (item.defaultRequest ?? [:]).merging([k: v]) { a, _ in a }
        }
        for (k, v) in item.min ?? [:] where item.defaultRequest?[k] == nil {
            item.defaultRequest = (item.defaultRequest ?? [:]).merging([k: v]) { a, _ in a }
        }
        return item
    }

    /// What a new Job gets once it has a uid (kube-apiserver's Job strategy): unless it chose its
    /// own selector, a selector on `batch.kubernetes.io/controller-uid` and the labels on its pod
    /// template that match it.
    public static func jobIdentity(_ job: Job) -> Job {
        guard job.spec.manualSelector != true, let uid = job.metadata.uid, let name = job.metadata.name else { return job }
        var job = job
        job.spec.selector = LabelSelector(matchLabels: [Job.controllerUIDLabel: uid])
        var meta = job.spec.template.metadata ?? ObjectMeta()
        meta.labels = (meta.labels ?? [:]).merging([
            Job.controllerUIDLabel: uid, "controller-uid": uid, Job.nameLabel: name, "job-name": name,
        ]) { _, new in new }
        job.spec.template.metadata = meta
        return job
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
        s.volumes = s.volumes?.map { v in
            var v = v
            if v.configMap != nil, v.configMap?.defaultMode == nil { v.configMap?.defaultMode = 420 }
            if v.secret != nil, v.secret?.defaultMode == nil { v.secret?.defaultMode = 420 }
            return v
        }
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
