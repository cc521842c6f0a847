/// core/v1 Pod.
public struct Pod: Resource {
    public static let kind = "Pod", apiVersion = "v1", plural = "pods", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PodSpec
    public var status: PodStatus?

    public init(metadata: ObjectMeta, spec: PodSpec, status: PodStatus? = nil) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

public struct PodSpec: Codable, Sendable, Equatable {
    public var containers: [Container]
    public var initContainers: [Container]?
    public var nodeName: String?
    public var nodeSelector: [String: String]?
    public var affinity: Affinity?
    public var tolerations: [Toleration]?
    public var restartPolicy: String?
    public var terminationGracePeriodSeconds: Int64?
    public var activeDeadlineSeconds: Int64?
    public var schedulerName: String?
    public var priority: Int32?
    public var priorityClassName: String?
    public var preemptionPolicy: String?
    public var dnsPolicy: String?
    public var dnsConfig: JSONValue?
    public var serviceAccountName: String?
    public var serviceAccount: String?
    public var automountServiceAccountToken: Bool?
    public var hostname: String?
    public var subdomain: String?
    public var hostNetwork: Bool?
    public var hostPID: Bool?
    public var hostIPC: Bool?
    public var enableServiceLinks: Bool?
    public var shareProcessNamespace: Bool?
    public var securityContext: JSONValue?
    public var volumes: [Volume]?
    public var imagePullSecrets: JSONValue?
    public var readinessGates: JSONValue?
    public var topologySpreadConstraints: [TopologySpreadConstraint]?
    public var runtimeClassName: String?
    public var overhead: [String: Quantity]?

    public init(containers: [Container]) { self.containers = containers }
}

public struct Container: Codable, Sendable, Equatable {
    public var name: String
    public var image: String?
    public var command: [String]?
    public var args: [String]?
    public var workingDir: String?
    public var ports: [ContainerPort]?
    public var env: [EnvVar]?
    public var envFrom: [EnvFromSource]?
    public var resources: ResourceRequirements?
    public var lifecycle: Lifecycle?
    public var livenessProbe: JSONValue?
    public var readinessProbe: JSONValue?
    public var startupProbe: JSONValue?
    public var imagePullPolicy: String?
    public var volumeMounts: [VolumeMount]?
    public var volumeDevices: JSONValue?
    public var securityContext: JSONValue?
    public var terminationMessagePath: String?
    public var terminationMessagePolicy: String?
    public var stdin: Bool?
    public var stdinOnce: Bool?
    public var tty: Bool?
    public var restartPolicy: String?

    public init(name: String, image: String?) {
        self.name = name
        self.image = image
    }
}

public struct ContainerPort: Codable, Sendable, Equatable {
    public var name: String?
    public var containerPort: Int32
    public var hostPort: Int32?
    public var hostIP: String?
    public var `protocol`: String?

    public init(containerPort: Int32, hostPort: Int32? = nil, name: String? = nil) {
        self.containerPort = containerPort
        self.hostPort = hostPort
        self.name = name
    }
}

public struct ResourceRequirements: Codable, Sendable, Equatable {
    public var requests: [String: Quantity]?
    public var limits: [String: Quantity]?
    public var claims: JSONValue?

    public init(requests: [String: Quantity]? = nil, limits: [String: Quantity]? = nil) {
        self.requests = requests
        self.limits = limits
    }
}

public struct Lifecycle: Codable, Sendable, Equatable {
    public var preStop: LifecycleHandler?
    public var postStart: LifecycleHandler?
    public var stopSignal: String?
}

public struct LifecycleHandler: Codable, Sendable, Equatable {
    public var exec: ExecAction?
    public var httpGet: JSONValue?
    public var tcpSocket: JSONValue?
    public var sleep: SleepAction?
}

public struct ExecAction: Codable, Sendable, Equatable {
    public var command: [String]?
}

public struct SleepAction: Codable, Sendable, Equatable {
    public var seconds: Int64
}

public struct Affinity: Codable, Sendable, Equatable {
    public var nodeAffinity: NodeAffinity?
    public var podAffinity: PodAffinity?
    public var podAntiAffinity: PodAffinity?

    public init(nodeAffinity: NodeAffinity? = nil, podAffinity: PodAffinity? = nil, podAntiAffinity: PodAffinity? = nil) {
        self.nodeAffinity = nodeAffinity
        self.podAffinity = podAffinity
        self.podAntiAffinity = podAntiAffinity
    }
}

/// Pod affinity or anti-affinity (the two have the same shape): terms that must hold, and terms
/// that count with a weight.
public struct PodAffinity: Codable, Sendable, Equatable {
    public var requiredDuringSchedulingIgnoredDuringExecution: [PodAffinityTerm]?
    public var preferredDuringSchedulingIgnoredDuringExecution: [WeightedPodAffinityTerm]?

    public init(required: [PodAffinityTerm]? = nil, preferred: [WeightedPodAffinityTerm]? = nil) {
        requiredDuringSchedulingIgnoredDuringExecution = required
        preferredDuringSchedulingIgnoredDuringExecution = preferred
    }
}

/// Pods (chosen by `labelSelector` in `namespaces` or the namespaces `namespaceSelector` picks;
/// by default the pod's own namespace) in the same `topologyKey` domain as the node.
public struct PodAffinityTerm: Codable, Sendable, Equatable {
    public var labelSelector: LabelSelector?
    public var namespaces: [String]?
    public var topologyKey: String
    public var namespaceSelector: LabelSelector?
    public var matchLabelKeys: [String]?
    public var mismatchLabelKeys: [String]?

    public init(labelSelector: LabelSelector?, topologyKey: String, namespaces: [String]? = nil, namespaceSelector: LabelSelector? = nil) {
        self.labelSelector = labelSelector
        self.topologyKey = topologyKey
        self.namespaces = namespaces
        self.namespaceSelector = namespaceSelector
    }
}

public struct WeightedPodAffinityTerm: Codable, Sendable, Equatable {
    /// 1–100.
    public var weight: Int32
    public var podAffinityTerm: PodAffinityTerm

    public init(weight: Int32, podAffinityTerm: PodAffinityTerm) {
        self.weight = weight
        self.podAffinityTerm = podAffinityTerm
    }
}

/// How pods matching `labelSelector` may be spread over the domains of `topologyKey`.
public struct TopologySpreadConstraint: Codable, Sendable, Equatable {
    public var maxSkew: Int32
    public var topologyKey: String
    /// `DoNotSchedule` or `ScheduleAnyway`.
    public var whenUnsatisfiable: String
    public var labelSelector: LabelSelector?
    public var minDomains: Int32?
    /// `Honor` (the default) or `Ignore`: whether the pod's node affinity and selector decide which nodes count.
    public var nodeAffinityPolicy: String?
    /// `Ignore` (the default) or `Honor`: whether nodes with taints the pod does not tolerate count.
    public var nodeTaintsPolicy: String?
    public var matchLabelKeys: [String]?

    public init(maxSkew: Int32, topologyKey: String, whenUnsatisfiable: String, labelSelector: LabelSelector?) {
        self.maxSkew = maxSkew
        self.topologyKey = topologyKey
        self.whenUnsatisfiable = whenUnsatisfiable
        self.labelSelector = labelSelector
    }
}

public struct NodeAffinity: Codable, Sendable, Equatable {
    public var requiredDuringSchedulingIgnoredDuringExecution: NodeSelector?
    public var preferredDuringSchedulingIgnoredDuringExecution: [PreferredSchedulingTerm]?

    public init(required: NodeSelector? = nil, preferred: [PreferredSchedulingTerm]? = nil) {
        requiredDuringSchedulingIgnoredDuringExecution = required
        preferredDuringSchedulingIgnoredDuringExecution = preferred
    }
}

public struct NodeSelector: Codable, Sendable, Equatable {
    public var nodeSelectorTerms: [NodeSelectorTerm]

    public init(nodeSelectorTerms: [NodeSelectorTerm]) { self.nodeSelectorTerms = nodeSelectorTerms }
}

public struct NodeSelectorTerm: Codable, Sendable, Equatable {
    public var matchExpressions: [NodeSelectorRequirement]?
    public var matchFields: [NodeSelectorRequirement]?

    public init(matchExpressions: [NodeSelectorRequirement]? = nil, matchFields: [NodeSelectorRequirement]? = nil) {
        self.matchExpressions = matchExpressions
        self.matchFields = matchFields
    }
}

public struct NodeSelectorRequirement: Codable, Sendable, Equatable {
    public var key: String
    public var `operator`: String
    public var values: [String]?

    public init(key: String, operator op: String, values: [String]? = nil) {
        self.key = key
        self.operator = op
        self.values = values
    }
}

public struct PreferredSchedulingTerm: Codable, Sendable, Equatable {
    public var weight: Int32
    public var preference: NodeSelectorTerm

    public init(weight: Int32, preference: NodeSelectorTerm) {
        self.weight = weight
        self.preference = preference
    }
}

public struct Toleration: Codable, Sendable, Equatable {
    public var key: String?
    public var `operator`: String?
    public var value: String?
    public var effect: String?
    public var tolerationSeconds: Int64?

    public init(key: String? = nil, operator op: String? = nil, value: String? = nil, effect: String? = nil, tolerationSeconds: Int64? = nil) {
        self.key = key
        self.operator = op
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }
}

public struct PodStatus: Codable, Sendable, Equatable {
    public var phase: String?
    public var conditions: [PodCondition]?
    public var hostIP: String?
    public var hostIPs: [IPAddress]?
    public var podIP: String?
    public var podIPs: [IPAddress]?
    public var startTime: String?
    public var containerStatuses: [ContainerStatus]?
    public var initContainerStatuses: [ContainerStatus]?
    public var reason: String?
    public var message: String?
    public var qosClass: String?
    public var nominatedNodeName: String?

    public init(phase: String? = nil) { self.phase = phase }
}

public struct IPAddress: Codable, Sendable, Equatable {
    public var ip: String

    public init(ip: String) { self.ip = ip }
}

public struct PodCondition: Codable, Sendable, Equatable {
    public var type: String
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastProbeTime: String?
    public var lastTransitionTime: String?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastTransitionTime: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }
}

public struct ContainerStatus: Codable, Sendable, Equatable {
    public var name: String
    public var state: ContainerState?
    public var lastState: ContainerState?
    public var ready: Bool
    public var restartCount: Int32
    public var image: String
    public var imageID: String
    public var containerID: String?
    public var started: Bool?

    public init(name: String, image: String, ready: Bool = false, restartCount: Int32 = 0, state: ContainerState? = nil) {
        self.name = name
        self.image = image
        self.imageID = ""
        self.ready = ready
        self.restartCount = restartCount
        self.state = state
    }
}

public struct ContainerState: Codable, Sendable, Equatable {
    public var waiting: ContainerStateWaiting?
    public var running: ContainerStateRunning?
    public var terminated: ContainerStateTerminated?

    public init(waiting: ContainerStateWaiting? = nil, running: ContainerStateRunning? = nil, terminated: ContainerStateTerminated? = nil) {
        self.waiting = waiting
        self.running = running
        self.terminated = terminated
    }
}

public struct ContainerStateWaiting: Codable, Sendable, Equatable {
    public var reason: String?
    public var message: String?

    public init(reason: String?, message: String? = nil) {
        self.reason = reason
        self.message = message
    }
}

public struct ContainerStateRunning: Codable, Sendable, Equatable {
    public var startedAt: String?

    public init(startedAt: String?) { self.startedAt = startedAt }
}

public struct ContainerStateTerminated: Codable, Sendable, Equatable {
    public var exitCode: Int32
    public var signal: Int32?
    public var reason: String?
    public var message: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var containerID: String?

    public init(exitCode: Int32, reason: String?, signal: Int32? = nil, startedAt: String? = nil, finishedAt: String? = nil) {
        self.exitCode = exitCode
        self.reason = reason
        self.signal = signal
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

extension Pod {
    /// Sum of the containers' requests for `resource` (`cpu`, `memory`, …).
    public func request(_ resource: String) -> Quantity {
        spec.containers.reduce(.zero) { $0 + ($1.resources?.requests?[resource] ?? .zero) }
    }

    /// The condition of `type`, if present.
    public func condition(_ type: String) -> PodCondition? { status?.conditions?.first { $0.type == type } }

    /// Ready condition is True.
    public var isReady: Bool { condition("Ready")?.status == "True" }
}

extension Pod {
    public func withStatus(of other: Pod) -> Pod {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: Pod) -> Bool { spec == other.spec }
}

extension Toleration {
    /// Kubernetes' `Toleration.ToleratesTaint`, shared by the scheduler and the taint manager.
    public func tolerates(_ taint: Taint) -> Bool {
        if let e = effect, !e.isEmpty, e != taint.effect { return false }
        if let k = key, !k.isEmpty, k != taint.key { return false }
        switch `operator` ?? "Equal" {
        case "Exists": return true
        case "Equal", "": return (value ?? "") == (taint.value ?? "")
        default: return false
        }
    }
}
