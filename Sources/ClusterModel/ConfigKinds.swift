import Foundation

private typealias T = ResourceTable

/// core/v1 ConfigMap: configuration that pods read as environment variables or files.
public struct ConfigMap: Resource {
    public static let kind = "ConfigMap", apiVersion = "v1", plural = "configmaps", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var data: [String: String]?
    /// Values as base64.
    public var binaryData: [String: String]?
    public var immutable: Bool?

    public init(metadata: ObjectMeta, data: [String: String]? = nil) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.data = data
    }

    public func withStatus(of other: ConfigMap) -> ConfigMap { self }
    public func sameSpec(as other: ConfigMap) -> Bool { (data, binaryData, immutable) == (other.data, other.binaryData, other.immutable) }

    public static let definition = KindDefinition(
        ConfigMap.self, shortNames: ["cm"], columns: [T.name, T.col("Data", 0, "integer"), T.ageColumn]
    ) { cm, now in
        [cm.metadata.name ?? "", "\((cm.data?.count ?? 0) + (cm.binaryData?.count ?? 0))", T.age(cm.metadata.creationTimestamp, now: now)]
    }
}

/// core/v1 Secret. Values are base64 in `data`; `stringData` is a write-only convenience that the
/// server folds into `data`. KubeJournal never prints a value (see `KindDefinition.secretMembers`).
public struct Secret: Resource {
    public static let kind = "Secret", apiVersion = "v1", plural = "secrets", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var type: String?
    public var data: [String: String]?
    public var stringData: [String: String]?
    public var immutable: Bool?

    public init(metadata: ObjectMeta, data: [String: String]? = nil, type: String? = nil) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.data = data
        self.type = type
    }

    public func withStatus(of other: Secret) -> Secret { self }
    public func sameSpec(as other: Secret) -> Bool { (type, data, stringData, immutable) == (other.type, other.data, other.stringData, other.immutable) }

    public static let definition = KindDefinition(
        Secret.self, columns: [T.name, T.col("Type"), T.col("Data", 0, "integer"), T.ageColumn],
        selectableFields: ["type": { $0.type ?? "Opaque" }], secretMembers: ["data", "stringData"]
    ) { s, now in
        [s.metadata.name ?? "", s.type ?? "Opaque", "\(s.data?.count ?? 0)", T.age(s.metadata.creationTimestamp, now: now)]
    }
}

/// core/v1 ServiceAccount: the identity pods run as. Every namespace has a `default` one, made by
/// the service account controller.
public struct ServiceAccount: Resource {
    public static let kind = "ServiceAccount", apiVersion = "v1", plural = "serviceaccounts", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var secrets: [ObjectReference]?
    public var imagePullSecrets: [LocalObjectReference]?
    public var automountServiceAccountToken: Bool?

    public init(metadata: ObjectMeta) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
    }

    /// The account every namespace has.
    public static let defaultName = "default"

    public func withStatus(of other: ServiceAccount) -> ServiceAccount { self }
    public func sameSpec(as other: ServiceAccount) -> Bool {
        (secrets, imagePullSecrets, automountServiceAccountToken) == (other.secrets, other.imagePullSecrets, other.automountServiceAccountToken)
    }

    public static let definition = KindDefinition(
        ServiceAccount.self, shortNames: ["sa"], columns: [T.name, T.col("Secrets", 0, "integer"), T.ageColumn]
    ) { sa, now in
        [sa.metadata.name ?? "", "\(sa.secrets?.count ?? 0)", T.age(sa.metadata.creationTimestamp, now: now)]
    }
}

/// A reference by name to an object in the same namespace.
public struct LocalObjectReference: Codable, Sendable, Equatable {
    public var name: String?

    public init(name: String?) { self.name = name }
}

/// core/v1 LimitRange: per-namespace bounds and defaults for containers' resources, enforced at
/// admission.
public struct LimitRange: Resource {
    public static let kind = "LimitRange", apiVersion = "v1", plural = "limitranges", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: LimitRangeSpec?

    public init(metadata: ObjectMeta, spec: LimitRangeSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: LimitRange) -> LimitRange { self }
    public func sameSpec(as other: LimitRange) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        LimitRange.self, shortNames: ["limits"], columns: [T.name, T.col("Created At", 0, "date")]
    ) { lr, _ in
        [lr.metadata.name ?? "", lr.metadata.creationTimestamp ?? ""]
    }
}

public struct LimitRangeSpec: Codable, Sendable, Equatable {
    public var limits: [LimitRangeItem]

    public init(limits: [LimitRangeItem]) { self.limits = limits }
}

public struct LimitRangeItem: Codable, Sendable, Equatable {
    /// `Container`, `Pod` or `PersistentVolumeClaim`.
    public var type: String
    public var max: [String: Quantity]?
    public var min: [String: Quantity]?
    /// The limit a container without one gets.
    public var `default`: [String: Quantity]?
    /// The request a container without one gets.
    public var defaultRequest: [String: Quantity]?
    public var maxLimitRequestRatio: [String: Quantity]?

    public init(type: String) { self.type = type }
}

/// core/v1 ResourceQuota: a namespace's budget of objects and resources, enforced at admission;
/// `status.used` is kept by the resource quota controller.
public struct ResourceQuota: Resource {
    public static let kind = "ResourceQuota", apiVersion = "v1", plural = "resourcequotas", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ResourceQuotaSpec?
    public var status: ResourceQuotaStatus?

    public init(metadata: ObjectMeta, spec: ResourceQuotaSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: ResourceQuota) -> ResourceQuota {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: ResourceQuota) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        ResourceQuota.self, shortNames: ["quota"], subresources: [.status],
        columns: [T.name, T.ageColumn, T.col("Request"), T.col("Limit")]
    ) { q, now in
        // kubectl: "resource: used/hard" pairs, limits.* in LIMIT, everything else in REQUEST.
        let hard = q.status?.hard ?? q.spec?.hard ?? [:]
        let used = q.status?.used ?? [:]
        var request: [String] = [], limit: [String] = []
        for name in hard.keys.sorted() {
            let pair = "\(name): \(used[name]?.description ?? "0")/\(hard[name]!.description)"
            if name.hasPrefix("limits.") { limit.append(pair) } else { request.append(pair) }
        }
        return [q.metadata.name ?? "", T.age(q.metadata.creationTimestamp, now: now), request.joined(separator: ", "), limit.joined(separator: ", ")]
    }
}

public struct ResourceQuotaSpec: Codable, Sendable, Equatable {
    public var hard: [String: Quantity]?
    public var scopes: [String]?
    public var scopeSelector: JSONValue?

    public init(hard: [String: Quantity]) { self.hard = hard }
}

public struct ResourceQuotaStatus: Codable, Sendable, Equatable {
    public var hard: [String: Quantity]?
    public var used: [String: Quantity]?

    public init(hard: [String: Quantity]?, used: [String: Quantity]?) {
        self.hard = hard
        self.used = used
    }
}
