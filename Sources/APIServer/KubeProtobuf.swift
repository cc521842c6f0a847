import Foundation
import ClusterModel
import Journal

/// Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), as
/// client-go's typed clients send them (kubectl's `create namespace|deployment|service` …),
/// turned into the `JSONValue` the JSON path would have produced for the same object.
///
/// A body is the magic `k8s\0` and a `runtime.Unknown`: `typeMeta` {apiVersion, kind}, `raw` (the
/// object's own message), `contentEncoding`, `contentType`. The object is read with the tables in
/// `KubeMessages`: field numbers from Kubernetes' `generated.proto` files, member names from the
/// JSON tags. Fields the tables leave out (and kj's model does not know) are skipped, as
/// Kubernetes skips unknown protobuf fields; malformed bytes are errors naming the byte offset.
enum KubeProtobuf {
    static let contentType = "application/vnd.kubernetes.protobuf"
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// The body as JSON with `apiVersion` and `kind` from the envelope.
    static func decode(_ body: [UInt8]) throws(ProtobufError) -> JSONValue {
        guard body.starts(with: magic) else {
            throw ProtobufError(offset: 0, "the body does not start with the Kubernetes protobuf prefix k8s\\0")
        }
        // runtime.Unknown: typeMeta = 1, raw = 2, contentEncoding = 3, contentType = 4.
        var typeMeta: [String: JSONValue] = [:]
        var raw = body.count..<body.count
        var encoding = "", type = ""
        var reader = ProtobufReader(body, range: magic.count..<body.count)
        while let key = try reader.nextKey() {
            guard (1...4).contains(key.number) else {
                try reader.skip(key)
                continue
            }
            guard key.wireType == .lengthDelimited else {
                throw ProtobufError(offset: key.offset, "runtime.Unknown field \(key.number) is \(key.wireType.name), expected length-delimited")
            }
            let range = try reader.lengthDelimited()
            switch key.number {
            case 1: typeMeta = try decodeMessage(KubeMessages.typeMeta, body, range)
            case 2: raw = range
            case 3: encoding = try string(body, range)
            default: type = try string(body, range)
            }
        }
        let apiVersion = typeMeta["apiVersion"]?.stringValue ?? ""
        let kind = typeMeta["kind"]?.stringValue ?? ""
        guard encoding.isEmpty else {
            throw ProtobufError(offset: raw.lowerBound, "the object is encoded as \"\(encoding)\", which this server does not decode")
        }
        guard type.isEmpty || type.contains("protobuf") else {
            throw ProtobufError(offset: raw.lowerBound, "the object is \(type), not protobuf")
        }
        guard let message = KubeMessages.message(apiVersion: apiVersion, kind: kind) else {
            let what = kind.isEmpty ? "an object without a kind" : (apiVersion.isEmpty ? kind : "\(apiVersion) \(kind)")
            throw ProtobufError(offset: magic.count, "the body holds \(what), which this server does not decode from protobuf")
        }
        var object = try decodeMessage(message, body, raw)
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return .object(object)
    }

    // MARK: messages

    /// Decodes `bytes[range]` as `message`: known fields become members, unknown ones are skipped.
    private static func decodeMessage(_ message: ProtoMessage, _ bytes: [UInt8], _ range: Range<Int>) throws(ProtobufError) -> [String: JSONValue] {
        var object: [String: JSONValue] = [:]
        // Repeated fields and maps arrive one element per occurrence; gathered here, then added.
        var lists: [String: [JSONValue]] = [:]
        var maps: [String: [String: JSONValue]] = [:]
        var reader = ProtobufReader(bytes, range: range)
        while let key = try reader.nextKey() {
            guard let field = message.fields[key.number] else {
                try reader.skip(key)
                continue
            }
            let expected: ProtobufReader.WireType = field.value.isVarint ? .varint : .lengthDelimited
            guard key.wireType == expected else {
                throw ProtobufError(offset: key.offset, "\(message.name).\(field.name) (field \(key.number)) is \(key.wireType.name), expected \(expected.name)")
            }
            switch field.value {
            case .inline(let inner):
                // A Go struct embedded with `json:",inline"`: its members are the parent's.
                object.merge(try decodeMessage(inner, bytes, try reader.lengthDelimited())) { _, new in new }
            case .stringMap, .quantityMap, .bytesMap:
                let (k, v) = try mapEntry(field, bytes, try reader.lengthDelimited())
                maps[field.name, default: [:]][k] = v
            default:
                let value = try scalarOrMessage(field, message, &reader, at: key.offset)
                if field.repeated {
                    lists[field.name, default: []].append(value ?? .null)
                } else if let value, field.zero == .kept || !isZero(value) {
                    object[field.name] = value
                } else {
                    // A later occurrence of a field wins, as in protobuf; a zero one clears it.
                    object[field.name] = nil
                }
            }
        }
        for (name, list) in lists { object[name] = .array(list) }
        for (name, map) in maps { object[name] = .object(map) }
        return object
    }

    /// One value of `field`; nil for an empty `Time` (the zero time, `null` in JSON).
    private static func scalarOrMessage(_ field: ProtoField, _ message: ProtoMessage, _ reader: inout ProtobufReader,
                                        at offset: Int) throws(ProtobufError) -> JSONValue? {
        switch field.value {
        case .int32: return .int(Int64(Int32(truncatingIfNeeded: try reader.varint())))
        case .int64: return .int(Int64(bitPattern: try reader.varint()))
        case .bool: return .bool(try reader.varint() != 0)
        case .string: return .string(try string(reader.bytes, try reader.lengthDelimited()))
        case .bytes: return .string(Data(reader.bytes[try reader.lengthDelimited()]).base64EncodedString())
        case .quantity:
            // resource.Quantity is {string = 1}.
            let q = try decodeMessage(KubeMessages.quantity, reader.bytes, try reader.lengthDelimited())
            return q["string"] ?? .string("0")
        case .intOrString:
            // intstr.IntOrString is {type = 1 (0 int, 1 string), intVal = 2, strVal = 3}.
            let v = try decodeMessage(KubeMessages.intOrString, reader.bytes, try reader.lengthDelimited())
            switch v["type"]?.intValue ?? 0 {
            case 0: return v["intVal"] ?? .int(0)
            case 1: return v["strVal"] ?? .string("")
            case let t: throw ProtobufError(offset: offset, "\(message.name).\(field.name): IntOrString of unknown type \(t)")
            }
        case .time, .microTime:
            // metav1.Time and MicroTime are {seconds = 1, nanos = 2}; the zero time is sent empty.
            let range = try reader.lengthDelimited()
            guard !range.isEmpty else { return nil }
            let t = try decodeMessage(KubeMessages.timestamp, reader.bytes, range)
            let seconds = t["seconds"]?.intValue ?? 0
            let nanos = t["nanos"]?.intValue ?? 0
            let (micros, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
            guard !overflow, (0..<1_000_000_000).contains(nanos) else {
                throw ProtobufError(offset: offset, "\(message.name).\(field.name): time out of range (\(seconds) s, \(nanos) ns)")
            }
            guard case .microTime = field.value else { return .string(Timestamp(seconds: seconds).rfc3339Seconds) }
            return .string(Timestamp(microseconds: micros + nanos / 1000).rfc3339)
        case .message(let inner):
            return .object(try decodeMessage(inner, reader.bytes, try reader.lengthDelimited()))
        case .inline, .stringMap, .quantityMap, .bytesMap:
            preconditionFailure("handled by decodeMessage")
        }
    }

    /// One entry of a protobuf map: {key = 1, value = 2}.
    private static func mapEntry(_ field: ProtoField, _ bytes: [UInt8], _ range: Range<Int>) throws(ProtobufError) -> (String, JSONValue) {
        let entryMessage: ProtoMessage
        switch field.value {
        case .quantityMap: entryMessage = KubeMessages.quantityEntry
        case .bytesMap: entryMessage = KubeMessages.bytesEntry
        default: entryMessage = KubeMessages.stringEntry
        }
        let entry = try decodeMessage(entryMessage, bytes, range)
        let key = entry["key"]?.stringValue ?? ""
        return (key, entry["value"] ?? .string(field.value.isQuantityMap ? "0" : ""))
    }

    private static func string(_ bytes: [UInt8], _ range: Range<Int>) throws(ProtobufError) -> String {
        guard let s = String(validating: bytes[range], as: UTF8.self) else {
            throw ProtobufError(offset: range.lowerBound, "a string that is not UTF-8")
        }
        return s
    }

    /// The zero value of a scalar (omitted from JSON by `omitempty`); messages are never zero.
    private static func isZero(_ v: JSONValue) -> Bool {
        switch v {
        case .string(let s): s.isEmpty
        case .int(let i): i == 0
        case .bool(let b): !b
        default: false
        }
    }
}

/// One protobuf message of the Kubernetes API: its fields by number.
struct ProtoMessage: Sendable {
    var name: String
    var fields: [Int: ProtoField]

    init(_ name: String, _ fields: [Int: ProtoField]) {
        self.name = name
        self.fields = fields
    }
}

/// How one field of a message becomes a JSON member.
struct ProtoField: Sendable {
    enum Value: Sendable {
        case string, int32, int64, bool
        /// `bytes`: base64 in JSON.
        case bytes
        /// metav1.Time: an RFC 3339 string with whole seconds.
        case time
        /// metav1.MicroTime: an RFC 3339 string with microseconds.
        case microTime
        /// resource.Quantity: its string (`500m`, `128Mi`).
        case quantity
        /// intstr.IntOrString: a number or a string.
        case intOrString
        /// map<string, string>, sent as repeated {key = 1, value = 2} entries.
        case stringMap
        /// map<string, Quantity>.
        case quantityMap
        /// map<string, bytes>, base64 values in JSON.
        case bytesMap
        case message(ProtoMessage)
        /// A Go struct embedded with `json:",inline"`: a nested message in protobuf, flat in JSON.
        case inline(ProtoMessage)

        var isVarint: Bool {
            switch self {
            case .int32, .int64, .bool: true
            default: false
            }
        }

        var isQuantityMap: Bool { if case .quantityMap = self { true } else { false } }
    }

    /// Whether a zero value on the wire still becomes a member. Kubernetes' generated code writes
    /// every non-pointer scalar, zero or not; JSON leaves the zero out where the Go field is
    /// `omitempty` (`.omitted`, the default) and keeps it for pointers (written only when set) and
    /// fields without `omitempty` (`.kept`).
    enum Zero: Sendable { case omitted, kept }

    var name: String
    var value: Value
    var repeated = false
    var zero = Zero.omitted

    static func string(_ name: String, _ zero: Zero = .omitted) -> ProtoField { ProtoField(name: name, value: .string, zero: zero) }
    static func int32(_ name: String, _ zero: Zero = .omitted) -> ProtoField { ProtoField(name: name, value: .int32, zero: zero) }
    static func int64(_ name: String, _ zero: Zero = .omitted) -> ProtoField { ProtoField(name: name, value: .int64, zero: zero) }
    static func bool(_ name: String, _ zero: Zero = .omitted) -> ProtoField { ProtoField(name: name, value: .bool, zero: zero) }
    static func intOrString(_ name: String, _ zero: Zero = .omitted) -> ProtoField { ProtoField(name: name, value: .intOrString, zero: zero) }
    static func time(_ name: String) -> ProtoField { ProtoField(name: name, value: .time, zero: .kept) }
    static func microTime(_ name: String) -> ProtoField { ProtoField(name: name, value: .microTime, zero: .kept) }
    static func quantity(_ name: String) -> ProtoField { ProtoField(name: name, value: .quantity, zero: .kept) }
    static func stringMap(_ name: String) -> ProtoField { ProtoField(name: name, value: .stringMap) }
    static func quantityMap(_ name: String) -> ProtoField { ProtoField(name: name, value: .quantityMap) }
    static func bytes(_ name: String, _ zero: Zero = .omitted) -> ProtoField { ProtoField(name: name, value: .bytes, zero: zero) }
    static func bytesMap(_ name: String) -> ProtoField { ProtoField(name: name, value: .bytesMap) }
    static func message(_ name: String, _ m: ProtoMessage) -> ProtoField { ProtoField(name: name, value: .message(m), zero: .kept) }
    static func inline(_ m: ProtoMessage) -> ProtoField { ProtoField(name: m.name, value: .inline(m)) }
    /// `repeated string`.
    static func strings(_ name: String) -> ProtoField { ProtoField(name: name, value: .string, repeated: true) }
    /// `repeated Message`.
    static func messages(_ name: String, _ m: ProtoMessage) -> ProtoField { ProtoField(name: name, value: .message(m), repeated: true) }
}
