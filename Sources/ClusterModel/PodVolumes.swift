/// A container's environment variable: a value, or a reference to where it comes from.
public struct EnvVar: Codable, Sendable, Equatable {
    public var name: String
    public var value: String?
    public var valueFrom: EnvVarSource?

    public init(name: String, value: String? = nil, valueFrom: EnvVarSource? = nil) {
        self.name = name
        self.value = value
        self.valueFrom = valueFrom
    }
}

public struct EnvVarSource: Codable, Sendable, Equatable {
    public var fieldRef: JSONValue?
    public var resourceFieldRef: JSONValue?
    public var configMapKeyRef: KeySelector?
    public var secretKeyRef: KeySelector?

    public init(configMapKeyRef: KeySelector? = nil, secretKeyRef: KeySelector? = nil) {
        self.configMapKeyRef = configMapKeyRef
        self.secretKeyRef = secretKeyRef
    }
}

/// One key of a ConfigMap or Secret (`configMapKeyRef`, `secretKeyRef`).
public struct KeySelector: Codable, Sendable, Equatable {
    public var name: String?
    public var key: String
    /// Whether the pod may start without it.
    public var optional: Bool?

    public init(name: String?, key: String, optional: Bool? = nil) {
        self.name = name
        self.key = key
        self.optional = optional
    }
}

/// All the keys of a ConfigMap or Secret as environment variables.
public struct EnvFromSource: Codable, Sendable, Equatable {
    public var prefix: String?
    public var configMapRef: SourceReference?
    public var secretRef: SourceReference?

    public init(configMapRef: SourceReference? = nil, secretRef: SourceReference? = nil) {
        self.configMapRef = configMapRef
        self.secretRef = secretRef
    }
}

/// A ConfigMap or Secret by name (`envFrom`).
public struct SourceReference: Codable, Sendable, Equatable {
    public var name: String?
    public var optional: Bool?

    public init(name: String?, optional: Bool? = nil) {
        self.name = name
        self.optional = optional
    }
}

public struct VolumeMount: Codable, Sendable, Equatable {
    public var name: String
    public var mountPath: String
    public var readOnly: Bool?
    public var recursiveReadOnly: String?
    public var subPath: String?
    public var subPathExpr: String?
    public var mountPropagation: String?

    public init(name: String, mountPath: String) {
        self.name = name
        self.mountPath = mountPath
    }
}

/// A pod's volume: a name and one source. The sources the simulated kubelet acts on are typed;
/// the others are kept as written.
public struct Volume: Codable, Sendable, Equatable {
    public var name: String
    public var configMap: ConfigMapVolumeSource?
    public var secret: SecretVolumeSource?
    public var persistentVolumeClaim: ClaimVolumeSource?
    public var emptyDir: EmptyDirVolumeSource?
    public var hostPath: JSONValue?
    public var projected: JSONValue?
    public var downwardAPI: JSONValue?
    public var ephemeral: JSONValue?
    public var csi: JSONValue?
    public var nfs: JSONValue?
    public var iscsi: JSONValue?
    public var fc: JSONValue?
    public var rbd: JSONValue?
    public var cephfs: JSONValue?
    public var cinder: JSONValue?
    public var glusterfs: JSONValue?
    public var flexVolume: JSONValue?
    public var flocker: JSONValue?
    public var gitRepo: JSONValue?
    public var gcePersistentDisk: JSONValue?
    public var awsElasticBlockStore: JSONValue?
    public var azureDisk: JSONValue?
    public var azureFile: JSONValue?
    public var vsphereVolume: JSONValue?
    public var quobyte: JSONValue?
    public var photonPersistentDisk: JSONValue?
    public var portworxVolume: JSONValue?
    public var scaleIO: JSONValue?
    public var storageos: JSONValue?
    public var image: JSONValue?

    public init(name: String) { self.name = name }
}

public struct KeyToPath: Codable, Sendable, Equatable {
    public var key: String
    public var path: String
    public var mode: Int32?
}

public struct ConfigMapVolumeSource: Codable, Sendable, Equatable {
    public var name: String?
    public var items: [KeyToPath]?
    public var defaultMode: Int32?
    public var optional: Bool?

    public init(name: String?, optional: Bool? = nil) {
        self.name = name
        self.optional = optional
    }
}

public struct SecretVolumeSource: Codable, Sendable, Equatable {
    public var secretName: String?
    public var items: [KeyToPath]?
    public var defaultMode: Int32?
    public var optional: Bool?

    public init(secretName: String?, optional: Bool? = nil) {
        self.secretName = secretName
        self.optional = optional
    }
}

public struct ClaimVolumeSource: Codable, Sendable, Equatable {
    public var claimName: String
    public var readOnly: Bool?

    public init(claimName: String) { self.claimName = claimName }
}

public struct EmptyDirVolumeSource: Codable, Sendable, Equatable {
    public var medium: String?
    public var sizeLimit: Quantity?
}
