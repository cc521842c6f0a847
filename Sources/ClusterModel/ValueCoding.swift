/// Why a `JSONValue` could not become a typed value. `path` is Kubernetes-style:
/// `spec.containers[0].ports[1].containerPort`.
public struct DecodingFailure: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case unknownField, typeMismatch, missing, invalid }
    public var kind: Kind
    public var path: String
    public var message: String

    public var description: String {
        switch kind {
        case .unknownField: "unknown field \"\(path)\""
        default: path.isEmpty ? message : "\(path): \(message)"
        }
    }
}

/// Decodes `Decodable` types from `JSONValue`. In strict mode every object member must be read by
/// the type, else the first unknown field (in path order) is reported, as Kubernetes'
/// `fieldValidation=Strict` does. Members typed as `JSONValue` are taken whole, unchecked.
public struct ValueDecoder: Sendable {
    public var strict: Bool

    public init(strict: Bool = true) { self.strict = strict }

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        // Only strict decoding needs to know which members were read.
        let tracker = strict ? UsageTracker() : nil
        let decoder = TreeDecoder(value: value, path: [], tracker: tracker)
        let result: T
        do {
            result = try decoder.decodeValue(T.self)
        } catch let e as DecodingFailure {
            throw e
        } catch let e as DecodingError {
            throw DecodingFailure(e)
        }
        if let unknown = tracker?.unknownFields().first {
            throw DecodingFailure(kind: .unknownField, path: unknown, message: "unknown field")
        }
        return result
    }
}

/// Encodes `Encodable` values as `JSONValue`. `nil` optionals are left out.
public struct ValueEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try member(value).result ?? .object([:])
    }
}

// MARK: - paths

private enum PathElement {
    case key(String)
    case index(Int)
}

private func render(_ path: [PathElement]) -> String {
    var s = ""
    for p in path {
        switch p {
        case .key(let k): s += s.isEmpty ? k : "." + k
        case .index(let i): s += "[\(i)]"
        }
    }
    return s
}

private struct IndexKey: CodingKey {
    var stringValue: String { "Index \(intValue!)" }
    var intValue: Int?
    init(_ i: Int) { intValue = i }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private func codingPath(_ path: [PathElement]) -> [any CodingKey] {
    path.map { p in
        switch p {
        case .key(let k): AnyKey(k)
        case .index(let i): IndexKey(i)
        }
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension DecodingFailure {
    fileprivate init(_ e: DecodingError) {
        switch e {
        case .dataCorrupted(let c), .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c):
            let path = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .reduce("") { acc, p in p.hasPrefix("[") ? acc + p : (acc.isEmpty ? p : acc + "." + p) }
            self.init(kind: .invalid, path: path, message: c.debugDescription)
        @unknown default:
            self.init(kind: .invalid, path: "", message: "\(e)")
        }
    }
}

// MARK: - decoding

/// Which members of which objects the decoded types read.
private final class UsageTracker {
    private var objects: [String: (keys: [String], used: Set<String>)] = [:]

    func register(_ path: [PathElement], keys: [String]) {
        let p = render(path)
        if objects[p] == nil { objects[p] = (keys, []) }
    }

    func use(_ path: [PathElement], _ key: String) {
        objects[render(path)]?.used.insert(key)
    }

    /// Paths of members no type read, sorted.
    func unknownFields() -> [String] {
        objects.flatMap { path, o in
            o.keys.filter { !o.used.contains($0) }.map { path.isEmpty ? $0 : path + "." + $0 }
        }.sorted()
    }
}

private struct TreeDecoder: Decoder {
    let value: JSONValue
    let path: [PathElement]
    let tracker: UsageTracker?
    var codingPath: [any CodingKey] { ClusterModel.codingPath(path) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func fail(_ kind: DecodingFailure.Kind, _ message: String) -> DecodingFailure {
        DecodingFailure(kind: kind, path: render(path), message: message)
    }

    func mismatch(_ expected: String) -> DecodingFailure {
        fail(.typeMismatch, "expected \(expected), got \(value.typeName)")
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let o) = value else { throw mismatch("object") }
        tracker?.register(path, keys: Array(o.keys))
        return KeyedDecodingContainer(KeyedContainer<Key>(object: o, decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let a) = value else { throw mismatch("array") }
        return UnkeyedContainer(array: a, decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(decoder: self) }

    func child(_ element: PathElement, _ v: JSONValue) -> TreeDecoder {
        TreeDecoder(value: v, path: path + [element], tracker: tracker)
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        switch type {
        case is String.Type: return try string() as! T
        case is Bool.Type:
            guard case .bool(let b) = value else { throw mismatch("boolean") }
            return b as! T
        case is Int.Type: return Int(try integer(Int64(Int.min), Int64(Int.max))) as! T
        case is Int32.Type: return Int32(try integer(Int64(Int32.min), Int64(Int32.max))) as! T
        case is Int64.Type: return try integer(.min, .max) as! T
        case is UInt64.Type: return UInt64(try integer(0, .max)) as! T
        case is Double.Type: return try double() as! T
        default: return try T(from: self)
        }
    }

    func string() throws -> String {
        guard case .string(let s) = value else { throw mismatch("string") }
        return s
    }

    func integer(_ lo: Int64, _ hi: Int64) throws -> Int64 {
        guard let i = value.intValue else { throw mismatch("integer") }
        guard i >= lo, i <= hi else { throw fail(.invalid, "\(i) is out of range") }
        return i
    }

    func double() throws -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: throw mismatch("number")
        }
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: [String: JSONValue]
    let decoder: TreeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func child(_ key: Key) throws -> TreeDecoder {
        decoder.tracker?.use(decoder.path, key.stringValue)
        guard let v = object[key.stringValue] else {
            throw DecodingFailure(kind: .missing, path: render(decoder.path + [.key(key.stringValue)]), message: "Required value")
        }
        return decoder.child(.key(key.stringValue), v)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        decoder.tracker?.use(decoder.path, key.stringValue)
        return object[key.stringValue].map { $0 == .null } ?? true
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try child(key).decodeValue(T.self)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        decoder.tracker?.use(decoder.path, key.stringValue)
        guard let v = object[key.stringValue], v != .null else { return nil }
        return try decoder.child(.key(key.stringValue), v).decodeValue(T.self)
    }

    // Members of the common scalar types: one lookup and no child decoder when the value has the
    // expected type (the protocol's default `decodeIfPresent` looks the key up three times).
    // Anything else takes the generic path, with its errors.
    private func scalar<T: Decodable>(_ key: Key, _ fast: (JSONValue) -> T?) throws -> T {
        if let v = object[key.stringValue], let x = fast(v) {
            decoder.tracker?.use(decoder.path, key.stringValue)
            return x
        }
        return try decode(T.self, forKey: key)
    }

    private func scalarIfPresent<T: Decodable>(_ key: Key, _ fast: (JSONValue) -> T?) throws -> T? {
        if let v = object[key.stringValue], let x = fast(v) {
            decoder.tracker?.use(decoder.path, key.stringValue)
            return x
        }
        return try decodeIfPresent(T.self, forKey: key)
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(key, \.stringValue) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(key, Self.bool) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try scalar(key, { Self.int($0).map(Int.init) }) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try scalar(key, { Self.int($0).flatMap(Int32.init(exactly:)) }) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(key, Self.int) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try scalarIfPresent(key, \.stringValue) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try scalarIfPresent(key, Self.bool) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try scalarIfPresent(key, { Self.int($0).map(Int.init) }) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try scalarIfPresent(key, { Self.int($0).flatMap(Int32.init(exactly:)) }) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try scalarIfPresent(key, Self.int) }

    private static func bool(_ v: JSONValue) -> Bool? { if case .bool(let b) = v { b } else { nil } }
    private static func int(_ v: JSONValue) -> Int64? { if case .int(let i) = v { i } else { nil } }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let array: [JSONValue]
    let decoder: TreeDecoder
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { array.count }
    var isAtEnd: Bool { currentIndex >= array.count }

    private mutating func next() throws -> TreeDecoder {
        guard !isAtEnd else { throw DecodingFailure(kind: .missing, path: render(decoder.path), message: "too few elements") }
        defer { currentIndex += 1 }
        return decoder.child(.index(currentIndex), array[currentIndex])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, array[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(T.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let decoder: TreeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    func decodeNil() -> Bool { decoder.value == .null }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(T.self) }
}

// MARK: - encoding

/// What an encoder builds: a container's members, filled in by its (reference-held) container.
private final class Box {
    var object: [String: Member]?
    var array: [Member]?
    var value: JSONValue?

    var result: JSONValue? {
        if let object { return .object(object.compactMapValues(\.result)) }
        if let array { return .array(array.map { $0.result ?? .null }) }
        return value
    }
}

/// A member: a finished value, or a box a nested container is still filling.
private enum Member {
    case value(JSONValue)
    case box(Box)

    var result: JSONValue? {
        switch self {
        case .value(let v): v
        case .box(let b): b.result
        }
    }
}

private final class TreeEncoder: Encoder {
    let box: Box
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(box: Box = Box()) { self.box = box }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if box.object == nil { box.object = [:] }
        return KeyedEncodingContainer(KeyedEncoder<Key>(box: box))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if box.array == nil { box.array = [] }
        return UnkeyedEncoder(box: box)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleEncoder(box: box) }
}

/// A member for any value: primitives directly, other types through their `encode(to:)`.
private func member<T: Encodable>(_ v: T) throws -> Member {
    if let j = v as? JSONValue { return .value(j) }
    let box = Box()
    try v.encode(to: TreeEncoder(box: box))
    if box.object == nil, box.array == nil, let value = box.value { return .value(value) }
    return .box(box)
}

private struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: Box
    var codingPath: [any CodingKey] { [] }

    private func set(_ key: Key, _ m: Member) { box.object![key.stringValue] = m }

    func encodeNil(forKey key: Key) throws { set(key, .value(.null)) }
    func encode(_ v: String, forKey key: Key) throws { set(key, .value(.string(v))) }
    func encode(_ v: Bool, forKey key: Key) throws { set(key, .value(.bool(v))) }
    func encode(_ v: Int, forKey key: Key) throws { set(key, .value(.int(Int64(v)))) }
    func encode(_ v: Int32, forKey key: Key) throws { set(key, .value(.int(Int64(v)))) }
    func encode(_ v: Int64, forKey key: Key) throws { set(key, .value(.int(v))) }
    func encode(_ v: Double, forKey key: Key) throws { set(key, .value(.double(v))) }
    func encodeIfPresent(_ v: String?, forKey key: Key) throws { if let v { set(key, .value(.string(v))) } }
    func encodeIfPresent(_ v: Bool?, forKey key: Key) throws { if let v { set(key, .value(.bool(v))) } }
    func encodeIfPresent(_ v: Int?, forKey key: Key) throws { if let v { set(key, .value(.int(Int64(v)))) } }
    func encodeIfPresent(_ v: Int32?, forKey key: Key) throws { if let v { set(key, .value(.int(Int64(v)))) } }
    func encodeIfPresent(_ v: Int64?, forKey key: Key) throws { if let v { set(key, .value(.int(v))) } }
    func encodeIfPresent(_ v: Double?, forKey key: Key) throws { if let v { set(key, .value(.double(v))) } }
    func encode<T: Encodable>(_ value: T, forKey key: Key) throws { set(key, try member(value)) }
    func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { if let value { set(key, try member(value)) } }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let b = Box()
        b.object = [:]
        set(key, .box(b))
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(box: b))
    }

    func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let b = Box()
        b.array = []
        set(key, .box(b))
        return UnkeyedEncoder(box: b)
    }

    func superEncoder() -> any Encoder { TreeEncoder(box: box) }

    func superEncoder(forKey key: Key) -> any Encoder {
        let b = Box()
        set(key, .box(b))
        return TreeEncoder(box: b)
    }
}

private struct UnkeyedEncoder: UnkeyedEncodingContainer {
    let box: Box
    var codingPath: [any CodingKey] { [] }
    var count: Int { box.array!.count }

    private func add(_ m: Member) { box.array!.append(m) }

    func encodeNil() throws { add(.value(.null)) }
    func encode(_ v: String) throws { add(.value(.string(v))) }
    func encode(_ v: Bool) throws { add(.value(.bool(v))) }
    func encode(_ v: Int) throws { add(.value(.int(Int64(v)))) }
    func encode(_ v: Int32) throws { add(.value(.int(Int64(v)))) }
    func encode(_ v: Int64) throws { add(.value(.int(v))) }
    func encode(_ v: Double) throws { add(.value(.double(v))) }
    func encode<T: Encodable>(_ value: T) throws { add(try member(value)) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let b = Box()
        b.object = [:]
        add(.box(b))
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(box: b))
    }

    func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let b = Box()
        b.array = []
        add(.box(b))
        return UnkeyedEncoder(box: b)
    }

    func superEncoder() -> any Encoder {
        let b = Box()
        add(.box(b))
        return TreeEncoder(box: b)
    }
}

private struct SingleEncoder: SingleValueEncodingContainer {
    let box: Box
    var codingPath: [any CodingKey] { [] }

    func encodeNil() throws { box.value = .null }
    func encode(_ v: String) throws { box.value = .string(v) }
    func encode(_ v: Bool) throws { box.value = .bool(v) }
    func encode(_ v: Int) throws { box.value = .int(Int64(v)) }
    func encode(_ v: Int32) throws { box.value = .int(Int64(v)) }
    func encode(_ v: Int64) throws { box.value = .int(v) }
    func encode(_ v: Int8) throws { box.value = .int(Int64(v)) }
    func encode(_ v: Int16) throws { box.value = .int(Int64(v)) }
    func encode(_ v: UInt) throws { try encode(UInt64(v)) }
    func encode(_ v: UInt8) throws { box.value = .int(Int64(v)) }
    func encode(_ v: UInt16) throws { box.value = .int(Int64(v)) }
    func encode(_ v: UInt32) throws { box.value = .int(Int64(v)) }
    func encode(_ v: UInt64) throws { box.value = v <= UInt64(Int64.max) ? .int(Int64(v)) : .double(Double(v)) }
    func encode(_ v: Float) throws { box.value = .double(Double(v)) }
    func encode(_ v: Double) throws { box.value = .double(v) }

    func encode<T: Encodable>(_ value: T) throws {
        switch try member(value) {
        case .value(let v): box.value = v
        case .box(let b):
            box.object = b.object
            box.array = b.array
            box.value = b.value
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        // Only reached through other decoders (ValueDecoder hands JSONValue over whole).
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
