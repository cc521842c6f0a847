/// A Kubernetes resource: what the Store keeps and the API serves.
public protocol Resource: Codable, Sendable, Equatable {
    /// `Pod`, `Node` …
    static var kind: String { get }
    /// `v1` or `apps/v1`.
    static var apiVersion: String { get }
    /// The URL path segment: `pods`, `nodes` …
    static var plural: String { get }
    static var namespaced: Bool { get }

    var apiVersion: String? { get set }
    var kind: String? { get set }
    var metadata: ObjectMeta { get set }

    /// This object with `other`'s status (kinds without a status: unchanged).
    func withStatus(of other: Self) -> Self
    /// Whether `other` has the same desired state (spec, or what stands for it).
    func sameSpec(as other: Self) -> Bool
}

extension Resource {
    /// apiVersion and kind set to this type's.
    public func withTypeMeta() -> Self {
        var copy = self
        copy.apiVersion = Self.apiVersion
        copy.kind = Self.kind
        return copy
    }
}

/// `metadata` of every object.
public struct ObjectMeta: Codable, Sendable, Equatable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?
    /// Which manager set which fields (kept by the Store's field manager; see `FieldManager`).
    public var managedFields: [ManagedFieldsEntry]?
    public var selfLink: String?

    public init(name: String? = nil, namespace: String? = nil, labels: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
    }

    /// The owner with `controller: true`, if any.
    public var controllerReference: OwnerReference? { ownerReferences?.first { $0.controller == true } }
}

public struct OwnerReference: Codable, Sendable, Equatable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// A reference to an object (Event.involvedObject, Endpoints' targetRef …).
public struct ObjectReference: Codable, Sendable, Equatable {
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var apiVersion: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    public init(kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil, apiVersion: String? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.apiVersion = apiVersion
    }
}

/// `matchLabels` and `matchExpressions` (apps/v1 selectors).
public struct LabelSelector: Codable, Sendable, Equatable {
    public var matchLabels: [String: String]?
    public var matchExpressions: [LabelSelectorRequirement]?

    public init(matchLabels: [String: String]? = nil, matchExpressions: [LabelSelectorRequirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }
}

public struct LabelSelectorRequirement: Codable, Sendable, Equatable {
    public var key: String
    public var `operator`: String
    public var values: [String]?

    public init(key: String, operator op: String, values: [String]? = nil) {
        self.key = key
        self.operator = op
        self.values = values
    }
}

/// An int or a string (`maxSurge: 1` or `maxSurge: "25%"`, `targetPort: 8080` or `"http"`).
public enum IntOrString: Codable, Sendable, Equatable, Hashable {
    case int(Int32)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int32.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        }
    }

    /// The value for a total: an int as is; "25%" of `total`, rounded up or down (saturating).
    public func scaled(total: Int, roundUp: Bool) -> Int? {
        switch self {
        case .int(let i): return Int(i)
        case .string(let s):
            guard s.hasSuffix("%"), let p = Int(s.dropLast()) else { return Int(s) }
            // Saturating: a percentage can be any number a client wrote ("9223372036854775807%").
            let (v, overflow) = total.multipliedReportingOverflow(by: p)
            if overflow { return (total < 0) != (p < 0) ? Int.min / 100 : Int.max / 100 }
            return roundUp ? v / 100 + (v % 100 > 0 ? 1 : 0) : v / 100
        }
    }
}
