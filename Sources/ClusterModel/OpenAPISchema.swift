/// OpenAPI schemas of the served kinds, derived from their Codable types so that they cannot
/// drift from what the server decodes: a decoder walks each type, recording every member it asks
/// for (required when asked with `decode`, optional with `decodeIfPresent`) and the member's type.
/// Structs become named components (`io.k8s.api.core.v1.PodSpec`), as in kube-apiserver's
/// documents, which is what `kubectl explain` prints as a field's type.
public struct OpenAPISchemas {
    /// Where references point: `#/components/schemas/` (v3) or `#/definitions/` (v2).
    public let referencePrefix: String
    /// The named schemas, by component name.
    public private(set) var components: [String: JSONValue] = [:]

    public init(referencePrefix: String) { self.referencePrefix = referencePrefix }

    /// The component name of a kind's top-level schema: `io.k8s.api.apps.v1.Deployment`.
    public static func componentName(of kind: ResourceKind) -> String {
        let group = kind.group.isEmpty ? "core" : kind.group.split(separator: ".").first.map(String.init) ?? kind.group
        return "io.k8s.api.\(group).\(kind.version).\(kind.kind)"
    }

    /// Adds the schema of `kind` (and of everything it contains), tagged with its
    /// group-version-kind; returns its component name.
    @discardableResult
    public mutating func add(_ kind: ResourceKind) -> String {
        let name = Self.componentName(of: kind)
        let builder = Builder(prefix: referencePrefix, components: components)
        var schema = builder.structSchema(kind.type)
        schema["x-kubernetes-group-version-kind"] = [["group": .string(kind.group), "version": .string(kind.version), "kind": .string(kind.kind)]]
        if var properties = schema["properties"] {
            properties["apiVersion"] = ["type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."]
            properties["kind"] = ["type": "string", "description": "Kind is a string value representing the REST resource this object represents."]
            for (member, text) in Self.topLevelDescriptions {
                guard let property = properties[member] else { continue }
                var p: JSONValue = property["$ref"] != nil ? ["allOf": [property]] : property
                p["description"] = .string(text)
                properties[member] = p
            }
            schema["properties"] = properties
        }
        // Clients may leave metadata out (kubectl fills it); the server requires a name, not the member.
        if let required = schema["required"]?.arrayValue {
            let rest = required.filter { $0 != "metadata" }
            schema["required"] = rest.isEmpty ? nil : .array(rest)
        }
        schema["description"] = .string("\(kind.kind) (\(kind.apiVersion)), as KubeJournal serves it.")
        components = builder.components
        components[name] = schema
        return name
    }

    static let topLevelDescriptions = [
        "metadata": "Standard object's metadata.",
        "spec": "The desired state: what the user (or a controller) asks for.",
        "status": "The observed state, written by the control plane's components.",
    ]

    /// The schemas of types that decode themselves from one value.
    static let quantityName = "io.k8s.apimachinery.pkg.api.resource.Quantity"
    static let intOrStringName = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
    static let special: [String: JSONValue] = [
        quantityName: ["type": "string", "description": "A fixed-point number: 500m, 128Mi, 2."],
        intOrStringName: ["type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": true,
                          "description": "An int32 or a string (8080, \"http\", \"25%\")."],
    ]

    /// The walk over one kind's types. A class, as the containers a Decoder hands out must share it.
    final class Builder {
        let prefix: String
        var components: [String: JSONValue]

        init(prefix: String, components: [String: JSONValue]) {
            self.prefix = prefix
            self.components = components
        }

        func reference(_ name: String) -> JSONValue { ["$ref": .string(prefix + name)] }

        /// The schema of a member of type `T`, and a stand-in value for the decoding to go on with.
        func describe<T: Decodable>(_ type: T.Type) throws -> (schema: JSONValue, value: T) {
            if let described = T.self as? any SchemaDescribed.Type {
                return (described.schema(self), try T(from: StandIn(builder: self, members: nil)))
            }
            switch T.self {
            case is String.Type: return (["type": "string"], "" as! T)
            case is Bool.Type: return (["type": "boolean"], false as! T)
            case is Int32.Type: return (["type": "integer", "format": "int32"], Int32(0) as! T)
            case is Int64.Type: return (["type": "integer", "format": "int64"], Int64(0) as! T)
            case is Int.Type: return (["type": "integer", "format": "int64"], 0 as! T)
            case is Double.Type: return (["type": "number", "format": "double"], 0.0 as! T)
            case is JSONValue.Type: return (["type": "object", "x-kubernetes-preserve-unknown-fields": true], JSONValue.null as! T)
            case is Quantity.Type:
                components[OpenAPISchemas.quantityName] = OpenAPISchemas.special[OpenAPISchemas.quantityName]
                return (reference(OpenAPISchemas.quantityName), Quantity.zero as! T)
            case is IntOrString.Type:
                components[OpenAPISchemas.intOrStringName] = OpenAPISchemas.special[OpenAPISchemas.intOrStringName]
                return (reference(OpenAPISchemas.intOrStringName), IntOrString.int(0) as! T)
            default:
                let name = Self.componentName(T.self)
                let members = Members()
                let value = try T(from: StandIn(builder: self, members: members))
                if components[name] == nil { components[name] = members.schema(describing: String(describing: T.self)) }
                return (reference(name), value)
            }
        }

        /// The schema of a struct itself (not a reference to it).
        func structSchema(_ type: any Resource.Type) -> JSONValue {
            func walk<R: Resource>(_ t: R.Type) -> JSONValue {
                let members = Members()
                _ = try? R(from: StandIn(builder: self, members: members))
                return members.schema(describing: String(describing: R.self))
            }
            return walk(type)
        }

        static let apimachinery: Set<String> = ["ObjectMeta", "OwnerReference", "LabelSelector", "LabelSelectorRequirement"]

        static func componentName(_ type: Any.Type) -> String {
            let name = String(describing: type)
            return apimachinery.contains(name) ? "io.k8s.apimachinery.pkg.apis.meta.v1.\(name)" : "io.k8s.api.\(name)"
        }
    }

    /// The members one struct asked for.
    final class Members {
        var properties: [String: JSONValue] = [:]
        var optional: Set<String> = []
        var order: [String] = []

        func add(_ key: String, _ schema: JSONValue) {
            if properties[key] == nil { order.append(key) }
            properties[key] = schema
        }

        /// The struct's schema, its members described where `FieldDescriptions` has words for
        /// `typeName.member` (a reference is wrapped in `allOf`, as kube-apiserver writes it, so the
        /// description sits beside it).
        func schema(describing typeName: String) -> JSONValue {
            var described: [String: JSONValue] = [:]
            for (key, property) in properties {
                described[key] = MergeSemantics.annotate(property, member: key, of: typeName)
            }
            for (key, property) in described {
                guard let text = FieldDescriptions.text["\(typeName).\(key)"] else { continue }
                var p: JSONValue = property["$ref"] != nil ? ["allOf": [property]] : property
                p["description"] = .string(text)
                described[key] = p
            }
            var s: JSONValue = ["type": "object", "properties": .object(described)]
            if MergeSemantics.atomicStructs.contains(typeName) { s["x-kubernetes-map-type"] = "atomic" }
            let required = order.filter { !optional.contains($0) }
            if !required.isEmpty { s["required"] = .array(required.map { .string($0) }) }
            return s
        }
    }

    /// The decoder the walk hands to each type: every member exists; optional ones are told apart
    /// by the `contains` the synthesized `decodeIfPresent` asks first.
    struct StandIn: Decoder {
        let builder: Builder
        let members: Members?
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(Keyed(builder: builder, members: members ?? Members()))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { Empty() }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(builder: builder) }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let builder: Builder
        let members: Members
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { [] }

        func contains(_ key: Key) -> Bool {
            members.optional.insert(key.stringValue)
            return true
        }

        func decodeNil(forKey key: Key) throws -> Bool { false }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let (schema, value) = try builder.describe(T.self)
            members.add(key.stringValue, schema)
            return value
        }

        func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(String.self as String.Type, key) }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(Bool.self as Bool.Type, key) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(Int.self as Int.Type, key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(Int32.self as Int32.Type, key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(Int64.self as Int64.Type, key) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(Double.self as Double.Type, key) }

        private func decode<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
            let (schema, value) = try builder.describe(T.self)
            members.add(key.stringValue, schema)
            return value
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            KeyedDecodingContainer(Keyed<NestedKey>(builder: builder, members: Members()))
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { Empty() }
        func superDecoder() throws -> any Decoder { StandIn(builder: builder, members: nil) }
        func superDecoder(forKey key: Key) throws -> any Decoder { StandIn(builder: builder, members: nil) }
    }

    /// Arrays and maps are described by their element type, so their containers are empty.
    struct Empty: UnkeyedDecodingContainer {
        var codingPath: [any CodingKey] { [] }
        var count: Int? { 0 }
        var isAtEnd: Bool { true }
        var currentIndex: Int { 0 }

        mutating func decodeNil() throws -> Bool { true }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { throw Self.end }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> { throw Self.end }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { throw Self.end }
        mutating func superDecoder() throws -> any Decoder { throw Self.end }

        static let end = DecodingError.valueNotFound(Any.self, .init(codingPath: [], debugDescription: "a schema walk reads no elements"))
    }

    /// One value: the zero of whatever the type asks for (Quantity, IntOrString and JSONValue
    /// decode themselves from one).
    struct Single: SingleValueDecodingContainer {
        let builder: Builder
        var codingPath: [any CodingKey] { [] }

        func decodeNil() -> Bool { false }
        func decode(_ type: Bool.Type) throws -> Bool { false }
        func decode(_ type: String.Type) throws -> String { "" }
        func decode(_ type: Double.Type) throws -> Double { 0 }
        func decode(_ type: Int.Type) throws -> Int { 0 }
        func decode(_ type: Int32.Type) throws -> Int32 { 0 }
        func decode(_ type: Int64.Type) throws -> Int64 { 0 }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try builder.describe(T.self).value }
    }
}

/// Types whose schema is made from another type's: optionals, arrays and string-keyed maps.
protocol SchemaDescribed {
    static func schema(_ builder: OpenAPISchemas.Builder) -> JSONValue
}

extension Optional: SchemaDescribed where Wrapped: Decodable {
    static func schema(_ builder: OpenAPISchemas.Builder) -> JSONValue { (try? builder.describe(Wrapped.self).schema) ?? [:] }
}

extension Array: SchemaDescribed where Element: Decodable {
    static func schema(_ builder: OpenAPISchemas.Builder) -> JSONValue {
        ["type": "array", "items": (try? builder.describe(Element.self).schema) ?? [:]]
    }
}

extension Dictionary: SchemaDescribed where Key == String, Value: Decodable {
    static func schema(_ builder: OpenAPISchemas.Builder) -> JSONValue {
        ["type": "object", "additionalProperties": (try? builder.describe(Value.self).schema) ?? [:]]
    }
}
