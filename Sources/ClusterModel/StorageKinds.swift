import Foundation

private typealias T = ResourceTable

/// core/v1 PersistentVolume: a piece of storage, bound to at most one claim.
public struct PersistentVolume: Resource {
    public static let kind = "PersistentVolume", apiVersion = "v1", plural = "persistentvolumes", namespaced = false
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PersistentVolumeSpec?
    public var status: PersistentVolumeStatus?

    public init(metadata: ObjectMeta, spec: PersistentVolumeSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: PersistentVolume) -> PersistentVolume {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: PersistentVolume) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        PersistentVolume.self, shortNames: ["pv"], subresources: [.status],
        columns: [T.name, T.col("Capacity"), T.col("Access Modes"), T.col("Reclaim Policy"), T.col("Status"), T.col("Claim"),
                  T.col("StorageClass"), T.col("VolumeAttributesClass"), T.col("Reason"), T.ageColumn, T.col("VolumeMode", 1)]
    ) { pv, now in
        let spec = pv.spec
        let claim = spec?.claimRef.map { "\($0.namespace ?? "")/\($0.name ?? "")" } ?? ""
        return [pv.metadata.name ?? "", spec?.capacity?["storage"]?.description ?? "", T.accessModes(spec?.accessModes),
                spec?.persistentVolumeReclaimPolicy ?? "", pv.status?.phase ?? "", claim, spec?.storageClassName ?? "",
                spec?.volumeAttributesClassName ?? "<unset>", pv.status?.reason ?? "", T.age(pv.metadata.creationTimestamp, now: now),
                spec?.volumeMode ?? "Filesystem"]
    }
}

public struct PersistentVolumeSpec: Codable, Sendable, Equatable {
    public var capacity: [String: Quantity]?
    public var accessModes: [String]?
    public var claimRef: ObjectReference?
    /// `Retain`, `Delete` or `Recycle`.
    public var persistentVolumeReclaimPolicy: String?
    public var storageClassName: String?
    public var volumeMode: String?
    public var volumeAttributesClassName: String?
    public var mountOptions: [String]?
    public var nodeAffinity: JSONValue?
    // The volume sources; KubeJournal simulates storage, so it keeps them as written.
    public var hostPath: JSONValue?
    public var local: JSONValue?
    public var nfs: JSONValue?
    public var csi: JSONValue?
    public var iscsi: JSONValue?
    public var fc: JSONValue?
    public var rbd: JSONValue?
    public var cephfs: JSONValue?
    public var glusterfs: JSONValue?
    public var awsElasticBlockStore: JSONValue?
    public var gcePersistentDisk: JSONValue?
    public var azureDisk: JSONValue?
    public var azureFile: JSONValue?
    public var vsphereVolume: JSONValue?

    public init(capacity: [String: Quantity]?, accessModes: [String]?) {
        self.capacity = capacity
        self.accessModes = accessModes
    }
}

public struct PersistentVolumeStatus: Codable, Sendable, Equatable {
    /// `Pending`, `Available`, `Bound`, `Released` or `Failed`.
    public var phase: String?
    public var message: String?
    public var reason: String?
    public var lastPhaseTransitionTime: String?

    public init(phase: String?) { self.phase = phase }
}

/// core/v1 PersistentVolumeClaim: a pod's request for storage.
public struct PersistentVolumeClaim: Resource {
    public static let kind = "PersistentVolumeClaim", apiVersion = "v1", plural = "persistentvolumeclaims", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PersistentVolumeClaimSpec?
    public var status: PersistentVolumeClaimStatus?

    public init(metadata: ObjectMeta, spec: PersistentVolumeClaimSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: PersistentVolumeClaim) -> PersistentVolumeClaim {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: PersistentVolumeClaim) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        PersistentVolumeClaim.self, shortNames: ["pvc"], subresources: [.status],
        columns: [T.name, T.col("Status"), T.col("Volume"), T.col("Capacity"), T.col("Access Modes"), T.col("StorageClass"),
                  T.col("VolumeAttributesClass"), T.ageColumn, T.col("VolumeMode", 1)]
    ) { pvc, now in
        let spec = pvc.spec, status = pvc.status
        return [pvc.metadata.name ?? "", status?.phase ?? "", spec?.volumeName ?? "", status?.capacity?["storage"]?.description ?? "",
                T.accessModes(status?.accessModes), spec?.storageClassName ?? "", spec?.volumeAttributesClassName ?? "<unset>",
                T.age(pvc.metadata.creationTimestamp, now: now), spec?.volumeMode ?? "Filesystem"]
    }
}

public struct PersistentVolumeClaimSpec: Codable, Sendable, Equatable {
    public var accessModes: [String]?
    public var resources: VolumeResourceRequirements?
    public var storageClassName: String?
    public var volumeName: String?
    public var volumeMode: String?
    public var volumeAttributesClassName: String?
    public var selector: LabelSelector?
    public var dataSource: JSONValue?
    public var dataSourceRef: JSONValue?

    public init(accessModes: [String]?, requests: [String: Quantity]?) {
        self.accessModes = accessModes
        resources = VolumeResourceRequirements(requests: requests)
    }
}

public struct VolumeResourceRequirements: Codable, Sendable, Equatable {
    public var requests: [String: Quantity]?
    public var limits: [String: Quantity]?

    public init(requests: [String: Quantity]?) { self.requests = requests }
}

public struct PersistentVolumeClaimStatus: Codable, Sendable, Equatable {
    /// `Pending`, `Bound` or `Lost`.
    public var phase: String?
    public var accessModes: [String]?
    public var capacity: [String: Quantity]?
    public var conditions: JSONValue?

    public init(phase: String?) { self.phase = phase }
}

/// storage.k8s.io/v1 StorageClass: how volumes of a class are provisioned and when they bind.
public struct StorageClass: Resource {
    public static let kind = "StorageClass", apiVersion = "storage.k8s.io/v1", plural = "storageclasses", namespaced = false
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var provisioner: String
    public var parameters: [String: String]?
    /// `Delete` (the default) or `Retain`.
    public var reclaimPolicy: String?
    /// `Immediate` (the default) or `WaitForFirstConsumer`.
    public var volumeBindingMode: String?
    public var allowVolumeExpansion: Bool?
    public var mountOptions: [String]?
    public var allowedTopologies: JSONValue?

    public init(metadata: ObjectMeta, provisioner: String) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.provisioner = provisioner
    }

    /// The annotation that makes a class the default for claims that name none.
    public static let defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"

    public func withStatus(of other: StorageClass) -> StorageClass { self }
    public func sameSpec(as other: StorageClass) -> Bool {
        var a = self, b = other
        a.metadata = ObjectMeta()
        b.metadata = ObjectMeta()
        return a == b
    }

    public static let definition = KindDefinition(
        StorageClass.self, shortNames: ["sc"],
        columns: [T.name, T.col("Provisioner"), T.col("ReclaimPolicy"), T.col("VolumeBindingMode"), T.col("AllowVolumeExpansion"), T.ageColumn]
    ) { sc, now in
        let isDefault = sc.metadata.annotations?[defaultClassAnnotation] == "true"
        return [(sc.metadata.name ?? "") + (isDefault ? " (default)" : ""), sc.provisioner, sc.reclaimPolicy ?? "Delete",
                sc.volumeBindingMode ?? "Immediate", "\(sc.allowVolumeExpansion ?? false)", T.age(sc.metadata.creationTimestamp, now: now)]
    }
}

extension ResourceTable {
    /// kubectl's abbreviations of access modes: `RWO,ROX`.
    static func accessModes(_ modes: [String]?) -> String {
        let short = ["ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"]
        return (modes ?? []).map { short[$0] ?? $0 }.joined(separator: ",")
    }
}
