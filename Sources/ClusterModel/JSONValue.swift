import Foundation

/// A JSON document as a value: what manifests, patches and stored objects are before they become
/// typed resources. Objects keep no key order; `serialized()` writes keys sorted, so equal values
/// always give equal bytes (the journal stores those bytes and hashes them).
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        get { if case .object(let o) = self { o[key] } else { nil } }
        set {
            guard case .object(var o) = self else { return }
            o[key] = newValue
            self = .object(o)
        }
    }

    /// This value with `path` set to `value` (objects made on the way; nil removes the member).
    public func setting(_ path: [String], to value: JSONValue?) -> JSONValue {
        guard let first = path.first else { return value ?? .null }
        var object = objectValue ?? [:]
        object[first] = path.count == 1 ? value : (object[first] ?? .object([:])).setting(Array(path.dropFirst()), to: value)
        return .object(object)
    }

    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var intValue: Int64? {
        switch self {
        case .int(let i): i
        case .double(let d) where d == d.rounded() && abs(d) < 9.0e15: Int64(d)
        default: nil
        }
    }

    /// Any number, as a `Double`.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// The JSON type's name, for error messages: "string", "object" …
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

// MARK: - Writing

extension JSONValue {
    /// Compact JSON with object keys sorted by their UTF-8 bytes.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, indent: nil, level: 0)
        return out
    }

    /// Indented JSON (four spaces, like kubectl), keys sorted.
    public func prettyPrinted() -> String {
        var out: [UInt8] = []
        write(to: &out, indent: 4, level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    public var jsonString: String { String(decoding: serialized(), as: UTF8.self) }

    private func write(to out: inout [UInt8], indent: Int?, level: Int) {
        func newline(_ l: Int) {
            guard let indent else { return }
            out.append(10)
            out.append(contentsOf: repeatElement(32, count: indent * l))
        }
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d):
            if d.isFinite, d == d.rounded(), abs(d) < 1e15 {
                out.append(contentsOf: String(Int64(d)).utf8)
            } else {
                out.append(contentsOf: (d.isFinite ? "\(d)" : "null").utf8)
            }
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                v.write(to: &out, indent: indent, level: level + 1)
            }
            if !a.isEmpty { newline(level) }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, member) in o.sorted(by: { Self.keyLess($0.key, $1.key) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                Self.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(32) }
                member.value.write(to: &out, indent: indent, level: level + 1)
            }
            if !o.isEmpty { newline(level) }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Byte-wise order of UTF-8 keys (the same on every platform, unlike locale-aware sorting).
    static func keyLess(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                return order != 0 ? order < 0 : x.count < y.count
            }
        }
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        var s = s
        out.append(UInt8(ascii: "\""))
        s.withUTF8 { bytes in
            // Most strings need no escaping: copy them whole.
            guard bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                out.append(contentsOf: bytes)
                return
            }
            for b in bytes {
                switch b {
                case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
                case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
                case 10: out.append(contentsOf: [92, 110])
                case 13: out.append(contentsOf: [92, 114])
                case 9: out.append(contentsOf: [92, 116])
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
                default: out.append(b)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

// MARK: - Reading

/// A JSON syntax error with its position.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    public let offset: Int
    public let line: Int
    public let column: Int
    public let reason: String
    public var description: String { "\(reason) at line \(line), column \(column)" }
}

extension JSONValue {
    /// The deepest nesting of arrays and objects the JSON and YAML readers accept. Kubernetes'
    /// objects nest a few dozen levels at most; Go's encoding/json (kube-apiserver's) stops at
    /// 10,000, but every walk over a value here (decoding, patching, encoding, freeing) recurses
    /// per level on task stacks of a few hundred KiB, so the bound is kept where those walks stay
    /// far from the stack's end.
    public static let maxNesting = 512

    /// Parses one JSON text (RFC 8259). Integers that fit in 64 bits stay exact; nesting deeper
    /// than `maxNesting` is an error.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        // The parser reads the bytes in place (no bounds checks or reference counting per byte).
        let result = bytes.withUnsafeBufferPointer { buffer -> Result<JSONValue, JSONParseError> in
            var p = Parser(buffer)
            do throws(JSONParseError) {
                p.skipSpace()
                let v = try p.value(depth: 0)
                p.skipSpace()
                guard p.pos == buffer.count else { throw p.fail("unexpected data after the JSON value") }
                return .success(v)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}

private struct Parser {
    let b: UnsafeBufferPointer<UInt8>
    var pos = 0

    init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    func fail(_ reason: String) -> JSONParseError {
        var line = 1, column = 1
        for c in b[..<min(pos, b.count)] {
            if c == 10 { line += 1; column = 1 } else { column += 1 }
        }
        return JSONParseError(offset: pos, line: line, column: column, reason: reason)
    }

    mutating func skipSpace() {
        while pos < b.count, b[pos] == 32 || b[pos] == 10 || b[pos] == 13 || b[pos] == 9 { pos += 1 }
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < JSONValue.maxNesting else { throw fail("nesting deeper than \(JSONValue.maxNesting)") }
        guard pos < b.count else { throw fail("unexpected end of input") }
        switch b[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            // Members are collected first, so the dictionary is built at its final size.
            var members: [(String, JSONValue)] = []
            skipSpace()
            if pos < b.count, b[pos] == UInt8(ascii: "}") { pos += 1; return .object([:]) }
            while true {
                skipSpace()
                guard pos < b.count, b[pos] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let k = try string()
                skipSpace()
                guard pos < b.count, b[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                pos += 1
                skipSpace()
                members.append((k, try value(depth: depth + 1)))
                skipSpace()
                guard pos < b.count else { throw fail("unexpected end of input") }
                if b[pos] == UInt8(ascii: ",") { pos += 1; continue }
                guard b[pos] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                pos += 1
                return .object(Dictionary(members, uniquingKeysWith: { _, last in last }))
            }
        case UInt8(ascii: "["):
            pos += 1
            var a: [JSONValue] = []
            skipSpace()
            if pos < b.count, b[pos] == UInt8(ascii: "]") { pos += 1; return .array(a) }
            while true {
                skipSpace()
                a.append(try value(depth: depth + 1))
                skipSpace()
                guard pos < b.count else { throw fail("unexpected end of input") }
                if b[pos] == UInt8(ascii: ",") { pos += 1; continue }
                guard b[pos] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
                pos += 1
                return .array(a)
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        default:
            throw fail("unexpected character '\(Character(Unicode.Scalar(b[pos])))'")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= b.count, word.withUTF8Buffer({ b[pos..<pos + n].elementsEqual($0) }) else { throw fail("invalid literal") }
        pos += n
    }

    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = pos
        var isInteger = true
        if b[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < b.count, b[pos] >= 48, b[pos] <= 57 else { throw fail("invalid number") }
        if b[pos] == 48 { pos += 1 } else { while pos < b.count, b[pos] >= 48, b[pos] <= 57 { pos += 1 } }
        if pos < b.count, b[pos] == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            let d = pos
            while pos < b.count, b[pos] >= 48, b[pos] <= 57 { pos += 1 }
            guard pos > d else { throw fail("invalid number") }
        }
        if pos < b.count, b[pos] == UInt8(ascii: "e") || b[pos] == UInt8(ascii: "E") {
            isInteger = false
            pos += 1
            if pos < b.count, b[pos] == UInt8(ascii: "+") || b[pos] == UInt8(ascii: "-") { pos += 1 }
            let d = pos
            while pos < b.count, b[pos] >= 48, b[pos] <= 57 { pos += 1 }
            guard pos > d else { throw fail("invalid number") }
        }
        let text = String(decoding: b[start..<pos], as: UTF8.self)
        if isInteger, let i = Int64(text) { return .int(i) }
        guard let d = Double(text) else { throw fail("invalid number") }
        return .double(d)
    }

    mutating func string() throws(JSONParseError) -> String {
        pos += 1  // opening quote
        // Most strings have no escapes: take them straight from the input.
        var end = pos
        while end < b.count, b[end] != UInt8(ascii: "\""), b[end] != UInt8(ascii: "\\"), b[end] >= 0x20 { end += 1 }
        if end < b.count, b[end] == UInt8(ascii: "\"") {
            defer { pos = end + 1 }
            return String(decoding: b[pos..<end], as: UTF8.self)
        }
        var out: [UInt8] = Array(b[pos..<end])
        pos = end
        var pendingHigh: UInt32?
        func scalar(_ v: UInt32) {
            var s = ""
            s.unicodeScalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            out.append(contentsOf: s.utf8)
        }
        while pos < b.count {
            let c = b[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                if let h = pendingHigh { scalar(h) }
                return String(decoding: out, as: UTF8.self)
            }
            guard c >= 0x20 else { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") {
                if let h = pendingHigh { scalar(h); pendingHigh = nil }
                out.append(c)
                pos += 1
                continue
            }
            pos += 1
            guard pos < b.count else { break }
            let e = b[pos]
            pos += 1
            if e == UInt8(ascii: "u") {
                guard pos + 4 <= b.count, let v = UInt32(String(decoding: b[pos..<pos + 4], as: UTF8.self), radix: 16) else {
                    throw fail("invalid \\u escape")
                }
                pos += 4
                if (0xD800...0xDBFF).contains(v) {
                    if let h = pendingHigh { scalar(h) }
                    pendingHigh = v
                } else if (0xDC00...0xDFFF).contains(v), let h = pendingHigh {
                    scalar(0x10000 + ((h - 0xD800) << 10) + (v - 0xDC00))
                    pendingHigh = nil
                } else {
                    if let h = pendingHigh { scalar(h); pendingHigh = nil }
                    scalar(v)
                }
                continue
            }
            if let h = pendingHigh { scalar(h); pendingHigh = nil }
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            default: throw fail("invalid escape")
            }
        }
        throw fail("unterminated string")
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(Dictionary(elements) { _, last in last }) }
}
