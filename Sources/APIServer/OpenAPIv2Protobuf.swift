import ClusterModel

/// `/openapi/v2` in the form kubectl asks for: the Swagger 2.0 document as gnostic's
/// `openapi.v2.Document` protobuf (asked for as `…spec.v2@v1.0+protobuf` or `…spec.v2.v1.0+protobuf`,
/// answered as the latter, which Go's media-type parser reads, as kube-openapi does).
/// kubectl validates what it cannot leave to the server against it — the items of a `kind: List`
/// — through each definition's `x-kubernetes-group-version-kind`. Written: the document's
/// `swagger`, `info` and `definitions`; a schema's `$ref`, `format`, `title`, `description`,
/// `default`, `required`, `enum`, `additionalProperties`, `type`, `items`, `allOf`, `properties`
/// and `x-…` extensions (values as YAML, as gnostic keeps them).
enum OpenAPIv2Protobuf {
    static let contentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    /// What an `Accept` header names when it asks for this form (either spelling).
    static let acceptedSubtype = "com.github.proto-openapi.spec.v2"

    /// The whole document, once.
    static let document: [UInt8] = encode(Discovery.openAPIv2)

    static func encode(_ doc: JSONValue) -> [UInt8] {
        var w = ProtobufWriter()
        if let swagger = doc["swagger"]?.stringValue { w.string(1, swagger) }
        if let info = doc["info"] {
            var i = ProtobufWriter()
            if let title = info["title"]?.stringValue { i.string(1, title) }
            if let version = info["version"]?.stringValue { i.string(2, version) }
            w.message(2, i)
        }
        var definitions = ProtobufWriter()
        for (name, schema) in (doc["definitions"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            definitions.message(1, namedSchema(name, schema))
        }
        w.message(9, definitions)
        return w.bytes
    }

    private static func namedSchema(_ name: String, _ schema: JSONValue) -> ProtobufWriter {
        var n = ProtobufWriter()
        n.string(1, name)
        n.message(2, self.schema(schema))
        return n
    }

    private static func schema(_ s: JSONValue) -> ProtobufWriter {
        var w = ProtobufWriter()
        for (field, key) in [(1, "$ref"), (2, "format"), (3, "title"), (4, "description")] {
            if let text = s[key]?.stringValue { w.string(field, text) }
        }
        if let value = s["default"] { w.message(5, any(value)) }
        for required in s["required"]?.arrayValue ?? [] { if let name = required.stringValue { w.string(19, name) } }
        for value in s["enum"]?.arrayValue ?? [] { w.message(20, any(value)) }
        switch s["additionalProperties"] {
        case .bool(let allowed)?:
            var item = ProtobufWriter()
            item.bool(2, allowed)
            w.message(21, item)
        case let nested? where nested.objectValue != nil:
            var item = ProtobufWriter()
            item.message(1, schema(nested))
            w.message(21, item)
        default: break
        }
        let types = s["type"].map { $0.arrayValue ?? [$0] } ?? []
        if !types.isEmpty {
            var item = ProtobufWriter()
            for type in types { if let name = type.stringValue { item.string(1, name) } }
            w.message(22, item)
        }
        if let items = s["items"] {
            var item = ProtobufWriter()
            for each in items.arrayValue ?? [items] { item.message(1, schema(each)) }
            w.message(23, item)
        }
        for each in s["allOf"]?.arrayValue ?? [] { w.message(24, schema(each)) }
        if let properties = s["properties"]?.objectValue {
            var p = ProtobufWriter()
            for (name, value) in properties.sorted(by: { $0.key < $1.key }) { p.message(1, namedSchema(name, value)) }
            w.message(25, p)
        }
        for (name, value) in (s.objectValue ?? [:]).filter({ $0.key.hasPrefix("x-") }).sorted(by: { $0.key < $1.key }) {
            var named = ProtobufWriter()
            named.string(1, name)
            named.message(2, any(value))
            w.message(31, named)
        }
        return w
    }

    /// gnostic's `Any`: the value as YAML.
    private static func any(_ value: JSONValue) -> ProtobufWriter {
        var a = ProtobufWriter()
        a.string(2, value.yaml())
        return a
    }
}

/// A writer of the protobuf wire format: varints and length-delimited fields.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func string(_ field: Int, _ value: String) {
        key(field, 2)
        varint(UInt64(value.utf8.count))
        bytes += value.utf8
    }

    mutating func bool(_ field: Int, _ value: Bool) {
        key(field, 0)
        varint(value ? 1 : 0)
    }

    mutating func message(_ field: Int, _ message: ProtobufWriter) {
        key(field, 2)
        varint(UInt64(message.bytes.count))
        bytes += message.bytes
    }
}
