import Foundation

/// The kinds KubeJournal serves, with their REST names.
public enum ResourceKind: String, CaseIterable, Sendable, Comparable {
    case namespace = "Namespace"
    case node = "Node"
    case pod = "Pod"
    case replicaSet = "ReplicaSet"
    case deployment = "Deployment"
    case service = "Service"
    case endpoints = "Endpoints"
    case event = "Event"
    case priorityClass = "PriorityClass"

    public var type: any Resource.Type {
        switch self {
        case .namespace: Namespace.self
        case .node: Node.self
        case .pod: Pod.self
        case .replicaSet: ReplicaSet.self
        case .deployment: Deployment.self
        case .service: Service.self
        case .endpoints: Endpoints.self
        case .event: CoreEvent.self
        case .priorityClass: PriorityClass.self
        }
    }

    public var kind: String { rawValue }
    public var plural: String { type.plural }
    public var apiVersion: String { type.apiVersion }
    public var namespaced: Bool { type.namespaced }
    /// `""` for the core group, `apps` for apps/v1.
    public var group: String { apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : "" }
    public var singular: String { rawValue.lowercased() }
    public var shortNames: [String] {
        switch self {
        case .namespace: ["ns"]
        case .node: ["no"]
        case .pod: ["po"]
        case .replicaSet: ["rs"]
        case .deployment: ["deploy"]
        case .service: ["svc"]
        case .endpoints: ["ep"]
        case .event: ["ev"]
        case .priorityClass: ["pc"]
        }
    }

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
        let d = ValueDecoder(strict: strict)
        switch self {
        case .namespace: return try d.decode(Namespace.self, from: value)
        case .node: return try d.decode(Node.self, from: value)
        case .pod: return try d.decode(Pod.self, from: value)
        case .replicaSet: return try d.decode(ReplicaSet.self, from: value)
        case .deployment: return try d.decode(Deployment.self, from: value)
        case .service: return try d.decode(Service.self, from: value)
        case .endpoints: return try d.decode(Endpoints.self, from: value)
        case .event: return try d.decode(CoreEvent.self, from: value)
        case .priorityClass: return try d.decode(PriorityClass.self, from: value)
        }
    }
}

/// Reading manifests: YAML (one or many documents) or JSON (one object, or a `List`).
public enum Manifest {
    /// A manifest that cannot be read, with where and why.
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The documents in `text`, each a JSON value; empty documents are skipped and `kind: List`
    /// documents are expanded into their items. Reading is bounded (see `YAMLComposer` and
    /// `JSONValue.parse`): nesting, and what YAML aliases may add, are limited, so no text costs
    /// more than its length justifies.
    public static func documents(_ text: String) throws(ReadError) -> [JSONValue] {
        try documents(Array(text.utf8))
    }

    /// The documents in UTF-8 `bytes` (see `documents(_:)` for text).
    public static func documents(_ bytes: [UInt8]) throws(ReadError) -> [JSONValue] {
        let first = bytes.first { ![9, 10, 13, 32].contains($0) }
        let docs: [JSONValue]
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            do {
                docs = [try JSONValue.parse(bytes)]
            } catch {
                throw ReadError(description: "invalid JSON: \(error)")
            }
        } else {
            docs = try YAMLComposer.documents(bytes)
        }
        return docs.flatMap { doc -> [JSONValue] in
            if doc == .null { return [] }
            if doc["kind"]?.stringValue == "List", let items = doc["items"]?.arrayValue { return items }
            if case .array(let items) = doc { return items }
            return [doc]
        }
    }

    /// Typed objects from `text`: each document must be a served apiVersion/kind.
    public static func objects(_ text: String, strict: Bool = true) throws -> [any Resource] {
        try documents(text).enumerated().map { i, doc in try object(doc, strict: strict, document: i + 1) }
    }

    /// One typed object from a JSON value.
    public static func object(_ doc: JSONValue, strict: Bool = true, document: Int? = nil) throws -> any Resource {
        let at = document.map { " (document \($0))" } ?? ""
        guard let apiVersion = doc["apiVersion"]?.stringValue, let kindName = doc["kind"]?.stringValue else {
            throw ReadError(description: "Object 'Kind' is missing in '\(doc.jsonString.prefix(120))'\(at)")
        }
        guard let kind = ResourceKind(apiVersion: apiVersion, kind: kindName) else {
            throw ReadError(description: "no matches for kind \"\(kindName)\" in version \"\(apiVersion)\"\(at)")
        }
        do {
            return try kind.decode(doc, strict: strict)
        } catch let e as DecodingFailure {
            let name = doc["metadata"]?["name"]?.stringValue.map { " \"\($0)\"" } ?? ""
            throw ReadError(description: "\(kindName)\(name) in version \"\(apiVersion)\" cannot be handled as a \(kindName): strict decoding error: \(e)\(at)")
        }
    }
}
