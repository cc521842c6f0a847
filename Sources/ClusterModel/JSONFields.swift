import Foundation

/// Reads a few fields out of a JSON text without parsing all of it — for the projection, which
/// folds millions of stored objects and needs only their node and owners. Assumes valid JSON
/// (what the journal stores); keys are compared byte for byte, so they must not be escaped.
public enum JSONFields {
    /// The string at `path` (a chain of object keys), if present and a string.
    public static func string(at path: [String], in bytes: UnsafeRawBufferPointer) -> String? {
        guard let start = valueStart(path, bytes) else { return nil }
        return string(at: start, bytes)
    }

    /// For the array at `path`, the string member `key` of each element that has one.
    public static func strings(inArrayAt path: [String], member key: String, in bytes: UnsafeRawBufferPointer) -> [String] {
        guard var pos = valueStart(path, bytes), pos < bytes.count, bytes[pos] == UInt8(ascii: "[") else { return [] }
        let p = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), n = bytes.count
        let k = Array(key.utf8)
        var out: [String] = []
        pos += 1
        while true {
            pos = skipSpace(p, n, pos)
            guard pos < n, p[pos] != UInt8(ascii: "]") else { return out }
            if let v = k.withUnsafeBufferPointer({ member($0, p, n, objectAt: pos) }), let s = string(at: v, bytes) { out.append(s) }
            pos = skipSpace(p, n, skipValue(p, n, pos))
            guard pos < n, p[pos] == UInt8(ascii: ",") else { return out }
            pos += 1
        }
    }

    /// Where the value at `path` begins.
    private static func valueStart(_ path: [String], _ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self), n = bytes.count
        var pos = skipSpace(p, n, 0)
        for key in path {
            var key = key
            guard let next = key.withUTF8({ member($0, p, n, objectAt: pos) }) else { return nil }
            pos = next
        }
        return pos
    }

    /// Where the value of member `key` begins, in the object starting at `start`.
    private static func member(_ key: UnsafeBufferPointer<UInt8>, _ p: UnsafePointer<UInt8>, _ n: Int, objectAt start: Int) -> Int? {
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
            if keyLength == key.count, memcmp(p + keyStart, key.baseAddress!, keyLength) == 0 { return pos }
            pos = skipSpace(p, n, skipValue(p, n, pos))
            guard pos < n, p[pos] == UInt8(ascii: ",") else { return nil }
            pos += 1
        }
    }

    private static func string(at start: Int, _ bytes: UnsafeRawBufferPointer) -> String? {
        let p = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard start < bytes.count, p[start] == UInt8(ascii: "\"") else { return nil }
        // An unterminated string (damaged bytes) is not a string.
        guard let end = stringEnd(p, bytes.count, start) else { return nil }
        let inner = UnsafeBufferPointer(start: p + start + 1, count: end - start - 2)
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return try? JSONValue.parse(Array(UnsafeBufferPointer(start: p + start, count: end - start))).stringValue
    }

    @inline(__always)
    private static func skipSpace(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
        var pos = start
        while pos < n, p[pos] == 32 || p[pos] == 10 || p[pos] == 13 || p[pos] == 9 { pos += 1 }
        return pos
    }

    /// Past the string whose opening quote is at `start` (the end of the input if it is unterminated).
    @inline(__always)
    private static func skipString(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
        stringEnd(p, n, start) ?? n
    }

    /// Past the closing quote of the string whose opening quote is at `start`; nil if it has none.
    @inline(__always)
    private static func stringEnd(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int? {
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
    private static func skipValue(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
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
    private static func hasByte(_ w: UInt64, _ c: UInt8) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let x = w ^ (ones &* UInt64(c))
        return (x &- ones) & ~x & highs != 0
    }

    /// Whether a word may hold a quote or a bracket (`{` and `[`, `}` and `]` differ only in bit 0x20).
    @inline(__always)
    private static func hasStructural(_ w: UInt64) -> Bool {
        let folded = w | 0x2020_2020_2020_2020
        return hasByte(w, 0x22) || hasByte(folded, 0x7B) || hasByte(folded, 0x7D)
    }

    @inline(__always)
    private static func hasQuoteOrBackslash(_ w: UInt64) -> Bool { hasByte(w, 0x22) || hasByte(w, 0x5C) }
}
