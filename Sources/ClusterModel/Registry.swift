import Foundation

/// How one kind is served, described once (in the manner of kube-apiserver's `registry/rest`
/// strategies): its type, names, subresources, kubectl's columns and which fields a field
/// selector may name. Discovery, REST routing, the OpenAPI documents, tables, the Store, the
/// projection and `kj get` read it from here, so adding a stored kind is its Codable type plus
/// one `KindDefinition` in `ResourceRegistry.definitions`.
public struct KindDefinition: Sendable {
    /// A subresource a kind serves besides the object itself.
    public enum Subresource: String, Sendable, CaseIterable {
        /// `/status`: writes that change only the status.
        case status
        /// `/scale`: an `autoscaling/v1` Scale of `spec.replicas`.
        case scale
        /// `/binding`: the scheduler's binding of a pod to a node.
        case binding
        /// `/eviction`: a `policy/v1` Eviction, which PodDisruptionBudgets may refuse.
        case eviction
    }

    /// The Codable type of the kind's objects.
    public let type: any Resource.Type
    /// kubectl's short names (`po`, `deploy`).
    public let shortNames: [String]
    /// Categories such as `all` (what `kubectl get all` lists).
    public let categories: [String]
    public let subresources: [Subresource]
    /// kubectl's columns, in order.
    public let columns: [ResourceTable.Column]
    /// Field paths besides `metadata.name` and `metadata.namespace` a field selector may name, sorted.
    public let selectableFields: [String]
    /// Top-level members whose values are secret: shown as sizes and keys, never as values.
    public let secretMembers: [String]
    private let cellsOf: @Sendable (any Resource, Date) -> [String]
    private let storedCellsOf: (@Sendable (JSONSlice, Date) -> [String])?
    private let fieldValueOf: @Sendable (any Resource, String) -> String
    private let decodeValue: @Sendable (JSONValue, Bool) throws -> any Resource

    /// A kind of `type` whose rows are `cells(object, now)`, one text per column. A kind listed in
    /// large numbers also gives `storedCells`: the same cells read in place from an object's stored
    /// JSON, which `kj get` uses instead of decoding every object.
    public init<R: Resource>(
        _ type: R.Type, shortNames: [String] = [], categories: [String] = [], subresources: [Subresource] = [],
        columns: [ResourceTable.Column], selectableFields: [String: @Sendable (R) -> String] = [:], secretMembers: [String] = [],
        storedCells: (@Sendable (JSONSlice, Date) -> [String])? = nil,
        cells: @escaping @Sendable (R, Date) -> [String]
    ) {
        self.type = type
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
        self.columns = columns
        self.selectableFields = selectableFields.keys.sorted()
        fieldValueOf = { object, field in (object as? R).flatMap { o in selectableFields[field].map { $0(o) } } ?? "" }
        self.secretMembers = secretMembers
        cellsOf = { object, now in (object as? R).map { cells($0, now) } ?? [] }
        storedCellsOf = storedCells
        decodeValue = { value, strict in try ValueDecoder(strict: strict).decode(R.self, from: value) }
    }

    /// The value of one of `selectableFields` in `object` (`""` when unset).
    public func fieldValue(_ object: any Resource, _ field: String) -> String { fieldValueOf(object, field) }

    /// `value` as an object of this kind; strictly, unknown fields are errors.
    public func decode(_ value: JSONValue, strict: Bool) throws -> any Resource { try decodeValue(value, strict) }

    /// One table row of `object` at `now`.
    public func cells(_ object: any Resource, now: Date) -> [String] { cellsOf(object, now) }

    /// Whether rows can be read from stored JSON (`cells(stored:now:)`) without decoding objects.
    public var readsRowsInPlace: Bool { storedCellsOf != nil }

    /// One table row read in place from an object's stored JSON; nil for kinds that do not give
    /// `storedCells` (decode the object and use `cells(_:now:)`).
    public func cells(stored json: JSONSlice, now: Date) -> [String]? { storedCellsOf?(json, now) }
}

/// The kinds KubeJournal serves. A kind's name is unique across groups (as the journal names
/// objects by kind and key), so a kind is its name.
public enum ResourceRegistry {
    /// Every served kind, in the order discovery lists them.
    public static let definitions: [KindDefinition] = [
        Namespace.definition, Node.definition, Pod.definition, Service.definition, Endpoints.definition, CoreEvent.definition,
        ConfigMap.definition, Secret.definition, ServiceAccount.definition,
        PersistentVolume.definition, PersistentVolumeClaim.definition, LimitRange.definition, ResourceQuota.definition,
        ReplicaSet.definition, Deployment.definition, StatefulSet.definition, DaemonSet.definition,
        Job.definition, CronJob.definition,
        PriorityClass.definition, StorageClass.definition, EndpointSlice.definition,
        Ingress.definition, IngressClass.definition, HorizontalPodAutoscaler.definition,
        PodDisruptionBudget.definition, Lease.definition,
    ]

    static let byName: [String: KindDefinition] = Dictionary(uniqueKeysWithValues: definitions.map { ($0.type.kind, $0) })

    /// The group-versions served (`v1`, `apps/v1` …), sorted with the core group first.
    public static let groupVersions: [String] = {
        let all = Set(definitions.map { $0.type.apiVersion })
        return all.sorted { a, b in (a.contains("/") ? 1 : 0, a) < (b.contains("/") ? 1 : 0, b) }
    }()
}

/// A served kind, by name (`Pod`, `ConfigMap`). What it is comes from its `KindDefinition`.
public struct ResourceKind: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String

    /// The kind named `rawValue`, if served.
    public init?(rawValue: String) {
        guard ResourceRegistry.byName[rawValue] != nil else { return nil }
        self.rawValue = rawValue
    }

    private init(_ name: String) { rawValue = name }

    public static let namespace = ResourceKind("Namespace"), node = ResourceKind("Node"), pod = ResourceKind("Pod")
    public static let replicaSet = ResourceKind("ReplicaSet"), deployment = ResourceKind("Deployment")
    public static let service = ResourceKind("Service"), endpoints = ResourceKind("Endpoints"), event = ResourceKind("Event")
    public static let priorityClass = ResourceKind("PriorityClass")
    public static let configMap = ResourceKind("ConfigMap"), secret = ResourceKind("Secret"), serviceAccount = ResourceKind("ServiceAccount")
    public static let persistentVolume = ResourceKind("PersistentVolume"), persistentVolumeClaim = ResourceKind("PersistentVolumeClaim")
    public static let storageClass = ResourceKind("StorageClass"), limitRange = ResourceKind("LimitRange"), resourceQuota = ResourceKind("ResourceQuota")
    public static let statefulSet = ResourceKind("StatefulSet"), daemonSet = ResourceKind("DaemonSet")
    public static let job = ResourceKind("Job"), cronJob = ResourceKind("CronJob")
    public static let endpointSlice = ResourceKind("EndpointSlice"), ingress = ResourceKind("Ingress"), ingressClass = ResourceKind("IngressClass")
    public static let horizontalPodAutoscaler = ResourceKind("HorizontalPodAutoscaler")
    public static let podDisruptionBudget = ResourceKind("PodDisruptionBudget"), lease = ResourceKind("Lease")

    /// Every served kind, sorted by name.
    public static let allCases: [ResourceKind] = ResourceRegistry.definitions.map { ResourceKind($0.type.kind) }.sorted()

    public var definition: KindDefinition { ResourceRegistry.byName[rawValue]! }
    public var type: any Resource.Type { definition.type }
    public var kind: String { rawValue }
    public var plural: String { type.plural }
    public var apiVersion: String { type.apiVersion }
    public var namespaced: Bool { type.namespaced }
    /// `""` for the core group, `apps` for apps/v1.
    public var group: String { apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : "" }
    /// `v1` for apps/v1, `v2` for autoscaling/v2.
    public var version: String { apiVersion.split(separator: "/").last.map(String.init) ?? apiVersion }
    public var singular: String { rawValue.lowercased() }
    public var shortNames: [String] { definition.shortNames }
    public var description: String { rawValue }

    public static func < (a: ResourceKind, b: ResourceKind) -> Bool { a.rawValue < b.rawValue }

    /// Finds a kind by kind name, plural, singular or short name, in any case
    /// (`pods`, `pod`, `po`, `Pod`, `deployments.apps`).
    public init?(resource name: String) {
        let n = name.lowercased().split(separator: ".").first.map(String.init) ?? ""
        guard let k = Self.allCases.first(where: { $0.plural == n || $0.singular == n || $0.shortNames.contains(n) }) else { return nil }
        self = k
    }

    /// The kind of `kind` at `apiVersion`, if served.
    public init?(apiVersion: String, kind: String) {
        guard let k = Self(rawValue: kind), k.apiVersion == apiVersion else { return nil }
        self = k
    }

    /// The kind of a resource type.
    public init(of type: any Resource.Type) {
        self = Self(rawValue: type.kind)!
    }

    /// Decodes `value` as this kind (strictly: unknown fields are errors).
    public func decode(_ value: JSONValue, strict: Bool = true) throws -> any Resource {
        try definition.decode(value, strict: strict)
    }
}

/// What KubeJournal's own outputs (`kj get -o yaml`, `describe`, `history`, `diff`, `events`,
/// `why`, `debug`) show of secret values: their size, never the value. The API serves Secrets
/// whole, as Kubernetes does; the journal keeps them as etcd does (unencrypted).
public enum Redaction {
    /// `object`, an object of kind `kind` as JSON, with each value of the kind's secret members
    /// replaced by its size (`<11 bytes>`) and, as the last-applied annotation kubectl writes
    /// holds the whole object, that annotation replaced by its size too.
    public static func redact(_ object: JSONValue, kind: String) -> JSONValue {
        guard let members = ResourceRegistry.byName[kind]?.secretMembers, !members.isEmpty, case .object = object else { return object }
        var o = object
        for member in members {
            guard let values = o[member]?.objectValue else { continue }
            o[member] = .object(values.mapValues { v in
                let text = v.stringValue ?? ""
                // `data` holds base64; `stringData` plain text.
                let size = member == "data" ? (Data(base64Encoded: text)?.count ?? text.utf8.count) : text.utf8.count
                return .string("<\(size) bytes>")
            })
        }
        let lastApplied = "kubectl.kubernetes.io/last-applied-configuration"
        if let applied = o["metadata"]?["annotations"]?[lastApplied]?.stringValue {
            var meta = o["metadata"]!, annotations = meta["annotations"]!
            annotations[lastApplied] = .string("<\(applied.utf8.count) bytes>")
            meta["annotations"] = annotations
            o["metadata"] = meta
        }
        return o
    }
}
