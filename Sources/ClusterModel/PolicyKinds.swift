import Foundation

private typealias T = ResourceTable

/// autoscaling/v2 HorizontalPodAutoscaler (stored; no metrics pipeline runs, so nothing scales).
public struct HorizontalPodAutoscaler: Resource {
    public static let kind = "HorizontalPodAutoscaler", apiVersion = "autoscaling/v2", plural = "horizontalpodautoscalers", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: HorizontalPodAutoscalerSpec
    public var status: HorizontalPodAutoscalerStatus?

    public init(metadata: ObjectMeta, spec: HorizontalPodAutoscalerSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: HorizontalPodAutoscaler) -> HorizontalPodAutoscaler {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: HorizontalPodAutoscaler) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        HorizontalPodAutoscaler.self, shortNames: ["hpa"], subresources: [.status],
        columns: [T.name, T.col("Reference"), T.col("Targets"), T.col("MinPods", 0, "integer"), T.col("MaxPods", 0, "integer"),
                  T.col("Replicas", 0, "integer"), T.ageColumn]
    ) { h, now in
        let ref = h.spec.scaleTargetRef
        let targets = (h.spec.metrics ?? []).map { m -> String in
            let resource = m["resource"]
            let target = resource?["target"]
            if let utilization = target?["averageUtilization"]?.intValue { return "\(resource?["name"]?.stringValue ?? ""): <unknown>/\(utilization)%" }
            return "<unknown>"
        }
        return [h.metadata.name ?? "", "\(ref.kind)/\(ref.name)", targets.isEmpty ? "<none>" : targets.joined(separator: ", "),
                "\(h.spec.minReplicas ?? 1)", "\(h.spec.maxReplicas)", "\(h.status?.currentReplicas ?? 0)", T.age(h.metadata.creationTimestamp, now: now)]
    }
}

public struct HorizontalPodAutoscalerSpec: Codable, Sendable, Equatable {
    public var scaleTargetRef: CrossVersionObjectReference
    public var minReplicas: Int32?
    public var maxReplicas: Int32
    public var metrics: [JSONValue]?
    public var behavior: JSONValue?

    public init(scaleTargetRef: CrossVersionObjectReference, minReplicas: Int32?, maxReplicas: Int32) {
        self.scaleTargetRef = scaleTargetRef
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
    }
}

public struct CrossVersionObjectReference: Codable, Sendable, Equatable {
    public var kind: String
    public var name: String
    public var apiVersion: String?

    public init(kind: String, name: String, apiVersion: String?) {
        self.kind = kind
        self.name = name
        self.apiVersion = apiVersion
    }
}

public struct HorizontalPodAutoscalerStatus: Codable, Sendable, Equatable {
    public var observedGeneration: Int64?
    public var lastScaleTime: String?
    public var currentReplicas: Int32?
    public var desiredReplicas: Int32?
    public var currentMetrics: JSONValue?
    public var conditions: JSONValue?

    public init() {}
}

/// policy/v1 PodDisruptionBudget: how many of a set of pods voluntary disruptions (evictions) may
/// take down at once.
public struct PodDisruptionBudget: Resource {
    public static let kind = "PodDisruptionBudget", apiVersion = "policy/v1", plural = "poddisruptionbudgets", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PodDisruptionBudgetSpec?
    public var status: PodDisruptionBudgetStatus?

    public init(metadata: ObjectMeta, spec: PodDisruptionBudgetSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: PodDisruptionBudget) -> PodDisruptionBudget {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: PodDisruptionBudget) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        PodDisruptionBudget.self, shortNames: ["pdb"], subresources: [.status],
        columns: [T.name, T.col("Min Available"), T.col("Max Unavailable"), T.col("Allowed Disruptions", 0, "integer"), T.ageColumn]
    ) { p, now in
        func text(_ v: IntOrString?) -> String {
            switch v {
            case .int(let i): "\(i)"
            case .string(let s): s
            case nil: "N/A"
            }
        }
        return [p.metadata.name ?? "", text(p.spec?.minAvailable), text(p.spec?.maxUnavailable), "\(p.status?.disruptionsAllowed ?? 0)",
                T.age(p.metadata.creationTimestamp, now: now)]
    }
}

public struct PodDisruptionBudgetSpec: Codable, Sendable, Equatable {
    public var minAvailable: IntOrString?
    public var maxUnavailable: IntOrString?
    public var selector: LabelSelector?
    /// `IfHealthyBudget` (the default) or `AlwaysAllow`.
    public var unhealthyPodEvictionPolicy: String?

    public init(minAvailable: IntOrString?, maxUnavailable: IntOrString?, selector: LabelSelector?) {
        self.minAvailable = minAvailable
        self.maxUnavailable = maxUnavailable
        self.selector = selector
    }
}

public struct PodDisruptionBudgetStatus: Codable, Sendable, Equatable {
    public var observedGeneration: Int64?
    public var disruptedPods: [String: String]?
    public var disruptionsAllowed: Int32?
    public var currentHealthy: Int32?
    public var desiredHealthy: Int32?
    public var expectedPods: Int32?
    public var conditions: JSONValue?

    public init() {}
}

/// coordination.k8s.io/v1 Lease: a holder's claim renewed by heartbeats (node leases in
/// `kube-node-lease`, leader election).
public struct Lease: Resource {
    public static let kind = "Lease", apiVersion = "coordination.k8s.io/v1", plural = "leases", namespaced = true
    /// Where each node's kubelet keeps its lease, named after the node.
    public static let nodeLeaseNamespace = "kube-node-lease"
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: LeaseSpec?

    public init(metadata: ObjectMeta, spec: LeaseSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: Lease) -> Lease { self }
    public func sameSpec(as other: Lease) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        Lease.self, columns: [T.name, T.col("Holder"), T.ageColumn]
    ) { l, now in
        [l.metadata.name ?? "", l.spec?.holderIdentity ?? "", T.age(l.metadata.creationTimestamp, now: now)]
    }
}

public struct LeaseSpec: Codable, Sendable, Equatable {
    public var holderIdentity: String?
    public var leaseDurationSeconds: Int32?
    public var acquireTime: String?
    public var renewTime: String?
    public var leaseTransitions: Int32?
    public var strategy: String?
    public var preferredHolder: String?

    public init(holderIdentity: String?, leaseDurationSeconds: Int32?) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
    }
}
