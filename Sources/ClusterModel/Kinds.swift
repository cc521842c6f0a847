/// core/v1 Namespace.
public struct Namespace: Resource {
    public static let kind = "Namespace", apiVersion = "v1", plural = "namespaces", namespaced = false
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: NamespaceSpec?
    public var status: NamespaceStatus?

    public init(name: String) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        metadata = ObjectMeta(name: name)
    }
}

public struct NamespaceSpec: Codable, Sendable, Equatable {
    public var finalizers: [String]?
}

public struct NamespaceStatus: Codable, Sendable, Equatable {
    public var phase: String?

    public init(phase: String? = nil) { self.phase = phase }
}

/// core/v1 Node.
public struct Node: Resource {
    public static let kind = "Node", apiVersion = "v1", plural = "nodes", namespaced = false
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: NodeSpec?
    public var status: NodeStatus?

    public init(metadata: ObjectMeta, spec: NodeSpec? = nil, status: NodeStatus? = nil) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

public struct NodeSpec: Codable, Sendable, Equatable {
    public var unschedulable: Bool?
    public var taints: [Taint]?
    public var podCIDR: String?
    public var podCIDRs: [String]?
    public var providerID: String?

    public init(unschedulable: Bool? = nil, taints: [Taint]? = nil) {
        self.unschedulable = unschedulable
        self.taints = taints
    }
}

public struct Taint: Codable, Sendable, Equatable, Hashable {
    public var key: String
    public var value: String?
    public var effect: String
    public var timeAdded: String?

    public init(key: String, value: String? = nil, effect: String, timeAdded: String? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
        self.timeAdded = timeAdded
    }
}

public struct NodeStatus: Codable, Sendable, Equatable {
    public var capacity: [String: Quantity]?
    public var allocatable: [String: Quantity]?
    public var conditions: [NodeCondition]?
    public var addresses: [NodeAddress]?
    public var images: [ContainerImage]?
    public var nodeInfo: JSONValue?
    public var daemonEndpoints: JSONValue?
    public var phase: String?

    public init(capacity: [String: Quantity]? = nil, allocatable: [String: Quantity]? = nil) {
        self.capacity = capacity
        self.allocatable = allocatable
    }
}

public struct NodeCondition: Codable, Sendable, Equatable {
    public var type: String
    public var status: String
    public var lastHeartbeatTime: String?
    public var lastTransitionTime: String?
    public var reason: String?
    public var message: String?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastHeartbeatTime: String? = nil, lastTransitionTime: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastHeartbeatTime = lastHeartbeatTime
        self.lastTransitionTime = lastTransitionTime
    }
}

public struct NodeAddress: Codable, Sendable, Equatable {
    public var type: String
    public var address: String

    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}

public struct ContainerImage: Codable, Sendable, Equatable {
    public var names: [String]?
    public var sizeBytes: Int64?

    public init(names: [String], sizeBytes: Int64? = nil) {
        self.names = names
        self.sizeBytes = sizeBytes
    }
}

extension Node {
    /// The condition of `type` (`Ready`, …), if present.
    public func condition(_ type: String) -> NodeCondition? { status?.conditions?.first { $0.type == type } }
}

/// A pod template (in ReplicaSets and Deployments).
public struct PodTemplateSpec: Codable, Sendable, Equatable {
    public var metadata: ObjectMeta?
    public var spec: PodSpec

    public init(metadata: ObjectMeta? = nil, spec: PodSpec) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// apps/v1 ReplicaSet.
public struct ReplicaSet: Resource {
    public static let kind = "ReplicaSet", apiVersion = "apps/v1", plural = "replicasets", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ReplicaSetSpec
    public var status: ReplicaSetStatus?

    public init(metadata: ObjectMeta, spec: ReplicaSetSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }
}

public struct ReplicaSetSpec: Codable, Sendable, Equatable {
    public var replicas: Int32?
    public var minReadySeconds: Int32?
    public var selector: LabelSelector
    public var template: PodTemplateSpec?

    public init(replicas: Int32?, selector: LabelSelector, template: PodTemplateSpec?) {
        self.replicas = replicas
        self.selector = selector
        self.template = template
    }
}

public struct ReplicaSetStatus: Codable, Sendable, Equatable {
    public var replicas: Int32
    public var fullyLabeledReplicas: Int32?
    public var readyReplicas: Int32?
    public var availableReplicas: Int32?
    public var observedGeneration: Int64?
    public var conditions: JSONValue?

    public init(replicas: Int32 = 0) { self.replicas = replicas }
}

/// apps/v1 Deployment.
public struct Deployment: Resource {
    public static let kind = "Deployment", apiVersion = "apps/v1", plural = "deployments", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: DeploymentSpec
    public var status: DeploymentStatus?

    public init(metadata: ObjectMeta, spec: DeploymentSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    /// The annotation holding a Deployment's (or its ReplicaSet's) revision number.
    public static let revisionAnnotation = "deployment.kubernetes.io/revision"
}

public struct DeploymentSpec: Codable, Sendable, Equatable {
    public var replicas: Int32?
    public var selector: LabelSelector
    public var template: PodTemplateSpec
    public var strategy: DeploymentStrategy?
    public var minReadySeconds: Int32?
    public var revisionHistoryLimit: Int32?
    public var paused: Bool?
    public var progressDeadlineSeconds: Int32?

    public init(replicas: Int32?, selector: LabelSelector, template: PodTemplateSpec, strategy: DeploymentStrategy? = nil) {
        self.replicas = replicas
        self.selector = selector
        self.template = template
        self.strategy = strategy
    }
}

public struct DeploymentStrategy: Codable, Sendable, Equatable {
    public var type: String?
    public var rollingUpdate: RollingUpdateDeployment?

    public init(type: String? = nil, rollingUpdate: RollingUpdateDeployment? = nil) {
        self.type = type
        self.rollingUpdate = rollingUpdate
    }
}

public struct RollingUpdateDeployment: Codable, Sendable, Equatable {
    public var maxUnavailable: IntOrString?
    public var maxSurge: IntOrString?

    public init(maxUnavailable: IntOrString? = nil, maxSurge: IntOrString? = nil) {
        self.maxUnavailable = maxUnavailable
        self.maxSurge = maxSurge
    }
}

public struct DeploymentStatus: Codable, Sendable, Equatable {
    public var observedGeneration: Int64?
    public var replicas: Int32?
    public var updatedReplicas: Int32?
    public var readyReplicas: Int32?
    public var availableReplicas: Int32?
    public var unavailableReplicas: Int32?
    public var conditions: [DeploymentCondition]?
    public var collisionCount: Int32?

    public init() {}
}

public struct DeploymentCondition: Codable, Sendable, Equatable {
    public var type: String
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastUpdateTime: String?
    public var lastTransitionTime: String?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }
}

/// core/v1 Service.
public struct Service: Resource {
    public static let kind = "Service", apiVersion = "v1", plural = "services", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ServiceSpec?
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: ServiceSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }
}

public struct ServiceSpec: Codable, Sendable, Equatable {
    public var selector: [String: String]?
    public var ports: [ServicePort]?
    public var type: String?
    public var clusterIP: String?
    public var clusterIPs: [String]?
    public var externalIPs: [String]?
    public var externalName: String?
    public var sessionAffinity: String?
    public var externalTrafficPolicy: String?
    public var internalTrafficPolicy: String?
    public var ipFamilies: [String]?
    public var ipFamilyPolicy: String?
    public var publishNotReadyAddresses: Bool?

    public init(selector: [String: String]? = nil, ports: [ServicePort]? = nil) {
        self.selector = selector
        self.ports = ports
    }
}

public struct ServicePort: Codable, Sendable, Equatable {
    public var name: String?
    public var `protocol`: String?
    public var appProtocol: String?
    public var port: Int32
    public var targetPort: IntOrString?
    public var nodePort: Int32?

    public init(port: Int32, targetPort: IntOrString? = nil, name: String? = nil) {
        self.port = port
        self.targetPort = targetPort
        self.name = name
    }
}

/// core/v1 Endpoints.
public struct Endpoints: Resource {
    public static let kind = "Endpoints", apiVersion = "v1", plural = "endpoints", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var subsets: [EndpointSubset]?

    public init(metadata: ObjectMeta, subsets: [EndpointSubset]? = nil) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.subsets = subsets
    }
}

public struct EndpointSubset: Codable, Sendable, Equatable {
    public var addresses: [EndpointAddress]?
    public var notReadyAddresses: [EndpointAddress]?
    public var ports: [EndpointPort]?

    public init(addresses: [EndpointAddress]? = nil, notReadyAddresses: [EndpointAddress]? = nil, ports: [EndpointPort]? = nil) {
        self.addresses = addresses
        self.notReadyAddresses = notReadyAddresses
        self.ports = ports
    }
}

public struct EndpointAddress: Codable, Sendable, Equatable {
    public var ip: String
    public var hostname: String?
    public var nodeName: String?
    public var targetRef: ObjectReference?

    public init(ip: String, nodeName: String? = nil, targetRef: ObjectReference? = nil) {
        self.ip = ip
        self.nodeName = nodeName
        self.targetRef = targetRef
    }
}

public struct EndpointPort: Codable, Sendable, Equatable {
    public var name: String?
    public var port: Int32
    public var `protocol`: String?
    public var appProtocol: String?

    public init(port: Int32, name: String? = nil, protocol proto: String? = nil) {
        self.port = port
        self.name = name
        self.protocol = proto
    }
}

/// core/v1 Event: what `kubectl describe` lists under "Events".
public struct CoreEvent: Resource {
    public static let kind = "Event", apiVersion = "v1", plural = "events", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    public var source: EventSource?
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var count: Int32?
    public var type: String?
    public var eventTime: String?
    public var reportingComponent: String?
    public var reportingInstance: String?
    public var action: String?
    public var related: ObjectReference?
    public var series: JSONValue?

    public init(metadata: ObjectMeta, involvedObject: ObjectReference, reason: String, message: String, type: String = "Normal") {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
    }
}

public struct EventSource: Codable, Sendable, Equatable {
    public var component: String?
    public var host: String?

    public init(component: String?, host: String? = nil) {
        self.component = component
        self.host = host
    }
}

extension Namespace {
    public func withStatus(of other: Namespace) -> Namespace {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: Namespace) -> Bool { spec == other.spec }
}

extension Node {
    public func withStatus(of other: Node) -> Node {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: Node) -> Bool { spec == other.spec }
}

extension ReplicaSet {
    public func withStatus(of other: ReplicaSet) -> ReplicaSet {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: ReplicaSet) -> Bool { spec == other.spec }
}

extension Deployment {
    public func withStatus(of other: Deployment) -> Deployment {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: Deployment) -> Bool { spec == other.spec }
}

extension Service {
    public func withStatus(of other: Service) -> Service {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: Service) -> Bool { spec == other.spec }
}

extension Endpoints {
    public func withStatus(of other: Endpoints) -> Endpoints { self }

    public func sameSpec(as other: Endpoints) -> Bool { subsets == other.subsets }
}

extension CoreEvent {
    public func withStatus(of other: CoreEvent) -> CoreEvent { self }

    public func sameSpec(as other: CoreEvent) -> Bool { self == other }
}

/// scheduling.k8s.io/v1 PriorityClass: a name for a pod priority. Admission gives a pod naming it
/// (or, naming none, the class marked `globalDefault`) its `priority` and `preemptionPolicy`.
public struct PriorityClass: Resource {
    public static let kind = "PriorityClass", apiVersion = "scheduling.k8s.io/v1", plural = "priorityclasses", namespaced = false
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var value: Int32
    public var globalDefault: Bool?
    public var description: String?
    /// `PreemptLowerPriority` (the default) or `Never`.
    public var preemptionPolicy: String?

    public init(metadata: ObjectMeta, value: Int32, globalDefault: Bool? = nil, preemptionPolicy: String? = nil) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.value = value
        self.globalDefault = globalDefault
        self.preemptionPolicy = preemptionPolicy
    }

    /// The classes every cluster has (kube-apiserver creates them at start).
    public static let systemClusterCritical = "system-cluster-critical", systemNodeCritical = "system-node-critical"
    public static let systemClasses: [String: Int32] = [systemClusterCritical: 2_000_000_000, systemNodeCritical: 2_000_001_000]
    /// The highest value a user's class may have.
    public static let highestUserDefinablePriority: Int32 = 1_000_000_000
}

extension PriorityClass {
    public func withStatus(of other: PriorityClass) -> PriorityClass { self }

    public func sameSpec(as other: PriorityClass) -> Bool {
        (value, globalDefault, description, preemptionPolicy) == (other.value, other.globalDefault, other.description, other.preemptionPolicy)
    }
}
