/// How lists, maps and structs of the served kinds merge and are owned under server-side apply:
/// the `+listType`, `+listMapKey`, `+mapType` and `+structType` markers of Kubernetes' Go types,
/// written into the OpenAPI schemas as `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and
/// `x-kubernetes-map-type`, from where `TypedSchema` reads them. A list not named here is atomic,
/// as in Kubernetes.
public enum MergeSemantics {
    /// How a list's items are told apart.
    public enum ListType: Sendable, Equatable {
        /// Items are objects identified by these fields (`k:{"name":"web"}` in managedFields).
        case map(keys: [String])
        /// Items are distinct scalars (`v:"value"`).
        case set
    }

    /// By `TypeName.member`.
    static let lists: [String: ListType] = [
        "PodSpec.containers": .map(keys: ["name"]),
        "PodSpec.initContainers": .map(keys: ["name"]),
        "PodSpec.ephemeralContainers": .map(keys: ["name"]),
        "PodSpec.volumes": .map(keys: ["name"]),
        "Container.ports": .map(keys: ["containerPort", "protocol"]),
        "Container.env": .map(keys: ["name"]),
        "Container.volumeMounts": .map(keys: ["mountPath"]),
        "ServiceSpec.ports": .map(keys: ["port", "protocol"]),
        "ObjectMeta.ownerReferences": .map(keys: ["uid"]),
        "ObjectMeta.finalizers": .set,
        "NodeStatus.conditions": .map(keys: ["type"]),
        "NodeStatus.addresses": .map(keys: ["type"]),
        "PodStatus.conditions": .map(keys: ["type"]),
        "DeploymentStatus.conditions": .map(keys: ["type"]),
        "JobStatus.conditions": .map(keys: ["type"]),
    ]

    /// Maps replaced whole (`+mapType=atomic`), by `TypeName.member`.
    static let atomicMaps: Set<String> = ["PodSpec.nodeSelector", "ServiceSpec.selector"]

    /// Structs replaced whole (`+structType=atomic`).
    static let atomicStructs: Set<String> = ["LabelSelector"]

    /// Values list-map keys take when an item leaves them out (their OpenAPI defaults).
    static let keyDefaults: [String: JSONValue] = ["protocol": "TCP"]

    /// A member's schema with the extensions its markers give.
    static func annotate(_ schema: JSONValue, member: String, of typeName: String) -> JSONValue {
        var s = schema
        switch lists["\(typeName).\(member)"] {
        case .map(let keys):
            s["x-kubernetes-list-type"] = "map"
            s["x-kubernetes-list-map-keys"] = .array(keys.map { .string($0) })
        case .set:
            s["x-kubernetes-list-type"] = "set"
        case nil:
            if s["type"] == "array" { s["x-kubernetes-list-type"] = "atomic" }
        }
        if atomicMaps.contains("\(typeName).\(member)") { s["x-kubernetes-map-type"] = "atomic" }
        return s
    }
}
