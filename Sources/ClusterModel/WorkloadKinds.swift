import Foundation

private typealias T = ResourceTable

/// apps/v1 StatefulSet: pods with stable ordinal names (`web-0`, `web-1` …) and their own claims.
public struct StatefulSet: Resource {
    public static let kind = "StatefulSet", apiVersion = "apps/v1", plural = "statefulsets", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: StatefulSetSpec
    public var status: StatefulSetStatus?

    public init(metadata: ObjectMeta, spec: StatefulSetSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: StatefulSet) -> StatefulSet {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: StatefulSet) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        StatefulSet.self, shortNames: ["sts"], categories: ["all"], subresources: [.status, .scale],
        columns: [T.name, T.col("Ready"), T.ageColumn, T.col("Containers", 1), T.col("Images", 1)]
    ) { s, now in
        [s.metadata.name ?? "", "\(s.status?.readyReplicas ?? 0)/\(s.spec.replicas ?? 1)", T.age(s.metadata.creationTimestamp, now: now)]
            + T.workloadWide(s.spec.template, nil).prefix(2)
    }
}

public struct StatefulSetSpec: Codable, Sendable, Equatable {
    public var replicas: Int32?
    public var selector: LabelSelector
    public var template: PodTemplateSpec
    /// Claims each pod gets its own copy of, named `TEMPLATE-POD`.
    public var volumeClaimTemplates: [PersistentVolumeClaim]?
    /// The headless Service that gives the pods their DNS names.
    public var serviceName: String?
    /// `OrderedReady` (the default) or `Parallel`.
    public var podManagementPolicy: String?
    public var updateStrategy: StatefulSetUpdateStrategy?
    public var revisionHistoryLimit: Int32?
    public var minReadySeconds: Int32?
    public var persistentVolumeClaimRetentionPolicy: JSONValue?
    public var ordinals: JSONValue?

    public init(replicas: Int32?, selector: LabelSelector, template: PodTemplateSpec, serviceName: String? = nil) {
        self.replicas = replicas
        self.selector = selector
        self.template = template
        self.serviceName = serviceName
    }
}

public struct StatefulSetUpdateStrategy: Codable, Sendable, Equatable {
    /// `RollingUpdate` (the default) or `OnDelete`.
    public var type: String?
    public var rollingUpdate: RollingUpdateStatefulSet?

    public init(type: String?, rollingUpdate: RollingUpdateStatefulSet? = nil) {
        self.type = type
        self.rollingUpdate = rollingUpdate
    }
}

public struct RollingUpdateStatefulSet: Codable, Sendable, Equatable {
    /// Pods with an ordinal below this keep the old revision.
    public var partition: Int32?
    public var maxUnavailable: IntOrString?

    public init(partition: Int32?) { self.partition = partition }
}

public struct StatefulSetStatus: Codable, Sendable, Equatable {
    public var observedGeneration: Int64?
    public var replicas: Int32?
    public var readyReplicas: Int32?
    public var currentReplicas: Int32?
    public var updatedReplicas: Int32?
    public var availableReplicas: Int32?
    public var currentRevision: String?
    public var updateRevision: String?
    public var collisionCount: Int32?
    public var conditions: JSONValue?

    public init() {}
}

/// apps/v1 DaemonSet: one pod on every eligible node.
public struct DaemonSet: Resource {
    public static let kind = "DaemonSet", apiVersion = "apps/v1", plural = "daemonsets", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: DaemonSetSpec
    public var status: DaemonSetStatus?

    public init(metadata: ObjectMeta, spec: DaemonSetSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: DaemonSet) -> DaemonSet {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: DaemonSet) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        DaemonSet.self, shortNames: ["ds"], categories: ["all"], subresources: [.status],
        columns: [T.name, T.col("Desired", 0, "integer"), T.col("Current", 0, "integer"), T.col("Ready", 0, "integer"),
                  T.col("Up-to-date", 0, "integer"), T.col("Available", 0, "integer"), T.col("Node Selector"), T.ageColumn,
                  T.col("Containers", 1), T.col("Images", 1), T.col("Selector", 1)]
    ) { d, now in
        let s = d.status
        let nodeSelector = (d.spec.template.spec.nodeSelector ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return [d.metadata.name ?? "", "\(s?.desiredNumberScheduled ?? 0)", "\(s?.currentNumberScheduled ?? 0)", "\(s?.numberReady ?? 0)",
                "\(s?.updatedNumberScheduled ?? 0)", "\(s?.numberAvailable ?? 0)", nodeSelector.isEmpty ? "<none>" : nodeSelector,
                T.age(d.metadata.creationTimestamp, now: now)] + T.workloadWide(d.spec.template, d.spec.selector)
    }
}

public struct DaemonSetSpec: Codable, Sendable, Equatable {
    public var selector: LabelSelector
    public var template: PodTemplateSpec
    public var updateStrategy: DaemonSetUpdateStrategy?
    public var minReadySeconds: Int32?
    public var revisionHistoryLimit: Int32?

    public init(selector: LabelSelector, template: PodTemplateSpec) {
        self.selector = selector
        self.template = template
    }
}

public struct DaemonSetUpdateStrategy: Codable, Sendable, Equatable {
    /// `RollingUpdate` (the default) or `OnDelete`.
    public var type: String?
    public var rollingUpdate: RollingUpdateDeployment?

    public init(type: String?, rollingUpdate: RollingUpdateDeployment? = nil) {
        self.type = type
        self.rollingUpdate = rollingUpdate
    }
}

public struct DaemonSetStatus: Codable, Sendable, Equatable {
    public var currentNumberScheduled: Int32?
    public var numberMisscheduled: Int32?
    public var desiredNumberScheduled: Int32?
    public var numberReady: Int32?
    public var observedGeneration: Int64?
    public var updatedNumberScheduled: Int32?
    public var numberAvailable: Int32?
    public var numberUnavailable: Int32?
    public var collisionCount: Int32?
    public var conditions: JSONValue?

    public init() {}
}

/// batch/v1 Job: pods that run to completion, retried up to a limit.
public struct Job: Resource {
    public static let kind = "Job", apiVersion = "batch/v1", plural = "jobs", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: JobSpec
    public var status: JobStatus?

    public init(metadata: ObjectMeta, spec: JobSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    /// The label that ties a Job's pods to it (its uid).
    public static let controllerUIDLabel = "batch.kubernetes.io/controller-uid"
    /// The label naming a pod's Job.
    public static let nameLabel = "batch.kubernetes.io/job-name"

    public func withStatus(of other: Job) -> Job {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: Job) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        Job.self, categories: ["all"], subresources: [.status],
        columns: [T.name, T.col("Status"), T.col("Completions"), T.col("Duration"), T.ageColumn,
                  T.col("Containers", 1), T.col("Images", 1), T.col("Selector", 1)],
        selectableFields: ["status.successful": { String($0.status?.succeeded ?? 0) }]
    ) { j, now in
        let completions = j.spec.completions.map { "\(j.status?.succeeded ?? 0)/\($0)" } ?? "\(j.status?.succeeded ?? 0)/1 of \(j.spec.parallelism ?? 1)"
        var duration = ""
        if let start = j.status?.startTime.flatMap(T.parseTime) {
            let end = j.status?.completionTime.flatMap(T.parseTime) ?? now
            duration = T.humanDuration(seconds: Int64(end.timeIntervalSince(start).rounded(.down)))
        }
        return [j.metadata.name ?? "", j.statusText, completions, duration, T.age(j.metadata.creationTimestamp, now: now)]
            + T.workloadWide(j.spec.template, j.spec.selector)
    }

    /// kubectl's STATUS of a Job: `Complete`, `Failed`, `Suspended`, `Running` …
    public var statusText: String {
        let conditions = status?.conditions ?? []
        func has(_ type: String) -> Bool { conditions.contains { $0.type == type && $0.status == "True" } }
        if has("Complete") { return "Complete" }
        if has("Failed") { return "Failed" }
        if has("FailureTarget") { return "FailureTarget" }
        if has("SuccessCriteriaMet") { return "SuccessCriteriaMet" }
        if has("Suspended") { return "Suspended" }
        if metadata.deletionTimestamp != nil { return "Terminating" }
        return "Running"
    }
}

public struct JobSpec: Codable, Sendable, Equatable {
    public var parallelism: Int32?
    public var completions: Int32?
    public var activeDeadlineSeconds: Int64?
    public var backoffLimit: Int32?
    public var backoffLimitPerIndex: Int32?
    public var maxFailedIndexes: Int32?
    public var podFailurePolicy: JSONValue?
    public var successPolicy: JSONValue?
    public var selector: LabelSelector?
    public var manualSelector: Bool?
    public var template: PodTemplateSpec
    public var ttlSecondsAfterFinished: Int32?
    /// `NonIndexed` (the default) or `Indexed`.
    public var completionMode: String?
    public var suspend: Bool?
    public var podReplacementPolicy: String?
    public var managedBy: String?

    public init(template: PodTemplateSpec, completions: Int32? = nil, backoffLimit: Int32? = nil) {
        self.template = template
        self.completions = completions
        self.backoffLimit = backoffLimit
    }
}

public struct JobStatus: Codable, Sendable, Equatable {
    public var conditions: [JobCondition]?
    public var startTime: String?
    public var completionTime: String?
    public var active: Int32?
    public var succeeded: Int32?
    public var failed: Int32?
    public var terminating: Int32?
    public var ready: Int32?
    public var completedIndexes: String?
    public var failedIndexes: String?
    public var uncountedTerminatedPods: JSONValue?

    public init() {}
}

public struct JobCondition: Codable, Sendable, Equatable {
    public var type: String
    public var status: String
    public var lastProbeTime: String?
    public var lastTransitionTime: String?
    public var reason: String?
    public var message: String?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }
}

/// batch/v1 CronJob: a Job made on a schedule.
public struct CronJob: Resource {
    public static let kind = "CronJob", apiVersion = "batch/v1", plural = "cronjobs", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: CronJobSpec
    public var status: CronJobStatus?

    public init(metadata: ObjectMeta, spec: CronJobSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: CronJob) -> CronJob {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: CronJob) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        CronJob.self, shortNames: ["cj"], categories: ["all"], subresources: [.status],
        columns: [T.name, T.col("Schedule"), T.col("Timezone"), T.col("Suspend", 0, "boolean"), T.col("Active", 0, "integer"),
                  T.col("Last Schedule"), T.ageColumn, T.col("Containers", 1), T.col("Images", 1), T.col("Selector", 1)]
    ) { c, now in
        let last = c.status?.lastScheduleTime.map { T.age($0, now: now) } ?? "<none>"
        return [c.metadata.name ?? "", c.spec.schedule, c.spec.timeZone ?? "<none>", "\(c.spec.suspend ?? false)", "\(c.status?.active?.count ?? 0)",
                last, T.age(c.metadata.creationTimestamp, now: now)] + T.workloadWide(c.spec.jobTemplate.spec.template, c.spec.jobTemplate.spec.selector)
    }
}

public struct CronJobSpec: Codable, Sendable, Equatable {
    /// Five cron fields, or a macro such as `@hourly`.
    public var schedule: String
    public var timeZone: String?
    public var startingDeadlineSeconds: Int64?
    /// `Allow` (the default), `Forbid` or `Replace`.
    public var concurrencyPolicy: String?
    public var suspend: Bool?
    public var jobTemplate: JobTemplateSpec
    public var successfulJobsHistoryLimit: Int32?
    public var failedJobsHistoryLimit: Int32?

    public init(schedule: String, jobTemplate: JobTemplateSpec) {
        self.schedule = schedule
        self.jobTemplate = jobTemplate
    }
}

public struct JobTemplateSpec: Codable, Sendable, Equatable {
    public var metadata: ObjectMeta?
    public var spec: JobSpec

    public init(metadata: ObjectMeta? = nil, spec: JobSpec) {
        self.metadata = metadata
        self.spec = spec
    }
}

public struct CronJobStatus: Codable, Sendable, Equatable {
    public var active: [ObjectReference]?
    public var lastScheduleTime: String?
    public var lastSuccessfulTime: String?

    public init() {}
}
