import Foundation

/// Reads a few fields out of a JSON text without parsing all of it — for the projection, which
/// folds millions of stored objects and needs only their node and owners. Assumes valid JSON
/// (what the journal stores); keys are compared byte for byte, so they must not be escaped.
public enum JSONFields {
    /// The string at `path` (a chain of object keys), if present and a string.
    public static func string(at path: [String], in bytes: UnsafeRawBufferPointer) -> String? {
        JSONSlice(bytes)?[path]?.stringValue
    }

    /// For the array at `path`, the string member `key` of each element that has one.
    public static func strings(inArrayAt path: [String], member key: String, in bytes: UnsafeRawBufferPointer) -> [String] {
        guard let array = JSONSlice(bytes)?[path] else { return [] }
        return array.elements.compactMap { $0[key]?.stringValue }
    }
}

/// One JSON value read in place from bytes (an event's data in the journal's memory map), without
/// parsing the rest: a member or an element is found by skipping over the values before it, eight
/// bytes at a time. For reads that need a few fields of many objects — the columns of
/// `kj get pods` — where building each object's tree would cost more than everything else.
///
/// Valid only while its bytes are. Assumes valid JSON (what the journal stores); keys are compared
/// byte for byte, so keys asked for must not need escaping.
public struct JSONSlice {
    private let p: UnsafePointer<UInt8>
    private let n: Int
    /// Where the value begins.
    private let start: Int

    /// The value `bytes` hold (leading white space skipped); nil for empty bytes.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return nil }
        p = base.assumingMemoryBound(to: UInt8.self)
        n = bytes.count
        start = JSONFields.skipSpace(p, n, 0)
        guard start < n else { return nil }
    }

    private init(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) {
        self.p = p
        self.n = n
        self.start = start
    }

    /// The value of member `key`, if this is an object that has it.
    public subscript(key: String) -> JSONSlice? {
        var key = key
        return key.withUTF8 { k in JSONFields.member(k, p, n, objectAt: start) }.map { JSONSlice(p, n, $0) }
    }

    /// The values of members `keys` (nil where absent), found in one pass over the object: for
    /// reading several members, where a lookup each would pass over the members before each one.
    public func members(_ keys: [StaticString]) -> [JSONSlice?] {
        var found = [JSONSlice?](repeating: nil, count: keys.count)
        guard p[start] == UInt8(ascii: "{") else { return found }
        var missing = keys.count
        var pos = start + 1
        while missing > 0 {
            pos = JSONFields.skipSpace(p, n, pos)
            guard pos < n, p[pos] == UInt8(ascii: "\"") else { break }
            let keyStart = pos + 1
            pos = JSONFields.skipString(p, n, pos)
            let keyLength = pos - 1 - keyStart
            pos = JSONFields.skipSpace(p, n, pos)
            guard pos < n, p[pos] == UInt8(ascii: ":") else { break }
            pos = JSONFields.skipSpace(p, n, pos + 1)
            for (i, key) in keys.enumerated() where found[i] == nil && key.utf8CodeUnitCount == keyLength
                && (keyLength == 0 || memcmp(p + keyStart, key.utf8Start, keyLength) == 0) {
                found[i] = JSONSlice(p, n, pos)
                missing -= 1
                break
            }
            pos = JSONFields.skipSpace(p, n, JSONFields.skipValue(p, n, pos))
            guard pos < n, p[pos] == UInt8(ascii: ",") else { break }
            pos += 1
        }
        return found
    }

    /// The value at `path`, a chain of object keys.
    public subscript(path: [String]) -> JSONSlice? {
        var value: JSONSlice? = self
        for key in path { value = value?[key] }
        return value
    }

    /// The string, if this is one (escapes decoded).
    public var stringValue: String? { JSONFields.string(at: start, p, n) }

    /// The integer, if this is a number without fraction or exponent that fits 64 bits.
    public var intValue: Int64? {
        var pos = start, negative = false
        if pos < n, p[pos] == UInt8(ascii: "-") { negative = true; pos += 1 }
        guard pos < n, (48...57).contains(p[pos]) else { return nil }
        var value: Int64 = 0
        while pos < n, (48...57).contains(p[pos]) {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(p[pos] - 48))
            guard !o1, !o2 else { return nil }
            value = a
            pos += 1
        }
        if pos < n, p[pos] == UInt8(ascii: ".") || p[pos] == UInt8(ascii: "e") || p[pos] == UInt8(ascii: "E") { return nil }
        return negative ? -value : value
    }

    /// The boolean, if this is `true` or `false`.
    public var boolValue: Bool? {
        switch p[start] {
        case UInt8(ascii: "t"): true
        case UInt8(ascii: "f"): false
        default: nil
        }
    }

    /// The value's own bytes (its text, from its first byte to its last).
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: p + start, count: JSONFields.skipValue(p, n, start) - start)
    }

    /// The offset of this value's `{` in the bytes, if it is an object (where a member may be inserted).
    public var objectStart: Int? { p[start] == UInt8(ascii: "{") ? start : nil }

    /// Whether this is an object without members.
    public var isEmptyObject: Bool {
        guard let open = objectStart else { return false }
        let next = JSONFields.skipSpace(p, n, open + 1)
        return next < n && p[next] == UInt8(ascii: "}")
    }

    /// Whether this is `null`.
    public var isNull: Bool { p[start] == UInt8(ascii: "n") }

    /// The elements, if this is an array; none otherwise.
    public var elements: Elements { Elements(p: p, n: n, array: start) }

    /// The members of an object whose values are strings (labels, annotations), others left out.
    public var stringMembers: [String: String] {
        var out: [String: String] = [:]
        guard p[start] == UInt8(ascii: "{") else { return out }
        var pos = start + 1
        while true {
            pos = JSONFields.skipSpace(p, n, pos)
            guard pos < n, p[pos] == UInt8(ascii: "\"") else { return out }
            let key = JSONFields.string(at: pos, p, n)
            pos = JSONFields.skipSpace(p, n, JSONFields.skipString(p, n, pos))
            guard pos < n, p[pos] == UInt8(ascii: ":") else { return out }
            pos = JSONFields.skipSpace(p, n, pos + 1)
            if let key, let value = JSONFields.string(at: pos, p, n) { out[key] = value }
            pos = JSONFields.skipSpace(p, n, JSONFields.skipValue(p, n, pos))
            guard pos < n, p[pos] == UInt8(ascii: ",") else { return out }
            pos += 1
        }
    }

    /// An object's `metadata.labels` (none when it has none).
    public var labels: [String: String] { self["metadata"]?["labels"]?.stringMembers ?? [:] }

    /// The elements of an array, in order.
    public struct Elements: Sequence, IteratorProtocol {
        fileprivate let p: UnsafePointer<UInt8>
        fileprivate let n: Int
        /// Where the next element begins; nil when there is none.
        private var upcoming: Int?

        fileprivate init(p: UnsafePointer<UInt8>, n: Int, array: Int) {
            self.p = p
            self.n = n
            guard array < n, p[array] == UInt8(ascii: "[") else { upcoming = nil; return }
            let first = JSONFields.skipSpace(p, n, array + 1)
            upcoming = first < n && p[first] != UInt8(ascii: "]") ? first : nil
        }

        public mutating func next() -> JSONSlice? {
            guard let pos = upcoming else { return nil }
            let after = JSONFields.skipSpace(p, n, JSONFields.skipValue(p, n, pos))
            if after < n, p[after] == UInt8(ascii: ",") {
                let following = JSONFields.skipSpace(p, n, after + 1)
                upcoming = following < n ? following : nil
            } else {
                upcoming = nil
            }
            return JSONSlice(p, n, pos)
        }
    }
}

extension JSONFields {
    /// Where the value of member `key` begins, in the object starting at `start`.
    fileprivate static func member(_ key: UnsafeBufferPointer<UInt8>, _ p: UnsafePointer<UInt8>, _ n: Int, objectAt start: Int) -> Int? {
        guard start < n, p[start] == UInt8(ascii: "{") else { return nil }
        var pos = start + 1
        while true {
            pos = skipSpace(p, n, pos)
            guard pos < n, p[pos] == UInt8(ascii: "\"") else { return nil }
            let keyStart = pos + 1
            pos = skipString(p, n, pos)
            let keyLength = pos - 1 - keyStart
            pos = skipSpace(p, n, pos)
            guard pos < n, p[pos] == UInt8(ascii: ":") else { return nil }
            pos = skipSpace(p, n, pos + 1)
            if keyLength == key.count, keyLength == 0 || memcmp(p + keyStart, key.baseAddress!, keyLength) == 0 { return pos }
            pos = skipSpace(p, n, skipValue(p, n, pos))
            guard pos < n, p[pos] == UInt8(ascii: ",") else { return nil }
            pos += 1
        }
    }

    fileprivate static func string(at start: Int, _ p: UnsafePointer<UInt8>, _ n: Int) -> String? {
        guard start < n, p[start] == UInt8(ascii: "\"") else { return nil }
        // An unterminated string (damaged bytes) is not a string.
        guard let end = stringEnd(p, n, start) else { return nil }
        let inner = UnsafeBufferPointer(start: p + start + 1, count: end - start - 2)
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return try? JSONValue.parse(Array(UnsafeBufferPointer(start: p + start, count: end - start))).stringValue
    }

    @inline(__always)
    fileprivate static func skipSpace(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
        var pos = start
        while pos < n, p[pos] == 32 || p[pos] == 10 || p[pos] == 13 || p[pos] == 9 { pos += 1 }
        return pos
    }

    /// Past the string whose opening quote is at `start` (the end of the input if it is unterminated).
    @inline(__always)
    fileprivate static func skipString(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
        stringEnd(p, n, start) ?? n
    }

    /// Past the closing quote of the string whose opening quote is at `start`; nil if it has none.
    @inline(__always)
    fileprivate static func stringEnd(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int? {
        var pos = start + 1
        while pos < n {
            while pos + 8 <= n, !hasQuoteOrBackslash(UnsafeRawPointer(p + pos).loadUnaligned(as: UInt64.self)) { pos += 8 }
            guard pos < n else { return nil }
            let c = p[pos]
            if c == UInt8(ascii: "\\") { pos += 2; continue }
            pos += 1
            if c == UInt8(ascii: "\"") { return pos }
        }
        return nil
    }

    /// Past the value starting at `start`: objects and arrays by counting brackets outside strings.
    fileprivate static func skipValue(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
        guard start < n else { return n }
        switch p[start] {
        case UInt8(ascii: "\""):
            return skipString(p, n, start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0, pos = start
            while pos < n {
                while pos + 8 <= n, !hasStructural(UnsafeRawPointer(p + pos).loadUnaligned(as: UInt64.self)) { pos += 8 }
                guard pos < n else { return n }
                switch p[pos] {
                case UInt8(ascii: "\""):
                    pos = skipString(p, n, pos)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return pos + 1 }
                default:
                    break
                }
                pos += 1
            }
            return n
        default:
            var pos = start
            while pos < n {
                switch p[pos] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 32, 10, 13, 9: return pos
                default: pos += 1
                }
            }
            return n
        }
    }

    @inline(__always)
    fileprivate static func hasByte(_ w: UInt64, _ c: UInt8) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let x = w ^ (ones &* UInt64(c))
        return (x &- ones) & ~x & highs != 0
    }

    /// Whether a word may hold a quote or a bracket (`{` and `[`, `}` and `]` differ only in bit 0x20).
    @inline(__always)
    fileprivate static func hasStructural(_ w: UInt64) -> Bool {
        let folded = w | 0x2020_2020_2020_2020
        return hasByte(w, 0x22) || hasByte(folded, 0x7B) || hasByte(folded, 0x7D)
    }

    @inline(__always)
    fileprivate static func hasQuoteOrBackslash(_ w: UInt64) -> Bool { hasByte(w, 0x22) || hasByte(w, 0x5C) }
}
