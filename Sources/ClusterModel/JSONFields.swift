/// Reads a few fields out of a JSON text without parsing all of it — for the projection, which
/// folds millions of stored objects and needs only their node and owners. Assumes valid JSON
/// (what the journal stores); keys are compared byte for byte, so they must not be escaped.
public enum JSONFields {
    /// The byte range of the value at `path` (a chain of object keys), if present.
    public static func range(of path: [String], in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        var range = 0..<bytes.count
        for key in path {
            guard let r = member(key, in: bytes, object: range) else { return nil }
            range = r
        }
        return range
    }

    /// The string at `path`, if it is a string.
    public static func string(at path: [String], in bytes: UnsafeRawBufferPointer) -> String? {
        guard let r = range(of: path, in: bytes) else { return nil }
        return decodeString(bytes, r)
    }

    /// For the array at `path`, the string member `key` of each element that has one.
    public static func strings(inArrayAt path: [String], member key: String, in bytes: UnsafeRawBufferPointer) -> [String] {
        guard let r = range(of: path, in: bytes) else { return [] }
        var s = Scan(b: bytes, pos: r.lowerBound)
        guard s.peek == UInt8(ascii: "[") else { return [] }
        s.pos += 1
        var out: [String] = []
        while true {
            s.space()
            guard let c = s.peek, c != UInt8(ascii: "]") else { return out }
            let start = s.pos
            s.skipValue()
            if let m = member(key, in: bytes, object: start..<s.pos), let v = decodeString(bytes, m) { out.append(v) }
            s.space()
            if s.peek == UInt8(ascii: ",") { s.pos += 1 } else { return out }
        }
    }

    /// The value range of member `key` of the object in `object`.
    static func member(_ key: String, in bytes: UnsafeRawBufferPointer, object: Range<Int>) -> Range<Int>? {
        var s = Scan(b: bytes, pos: object.lowerBound)
        s.space()
        guard s.peek == UInt8(ascii: "{") else { return nil }
        s.pos += 1
        let k = Array(key.utf8)
        while true {
            s.space()
            guard s.peek == UInt8(ascii: "\"") else { return nil }
            let keyStart = s.pos + 1
            s.skipString()
            let keyEnd = s.pos - 1
            s.space()
            guard s.peek == UInt8(ascii: ":") else { return nil }
            s.pos += 1
            s.space()
            let valueStart = s.pos
            s.skipValue()
            if keyEnd - keyStart == k.count, memcmpEqual(bytes, keyStart, k) { return valueStart..<s.pos }
            s.space()
            guard s.peek == UInt8(ascii: ",") else { return nil }
            s.pos += 1
        }
    }

    private static func memcmpEqual(_ b: UnsafeRawBufferPointer, _ at: Int, _ k: [UInt8]) -> Bool {
        for i in 0..<k.count where b[at + i] != k[i] { return false }
        return true
    }

    private static func decodeString(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> String? {
        guard r.count >= 2, b[r.lowerBound] == UInt8(ascii: "\"") else { return nil }
        let inner = UnsafeRawBufferPointer(rebasing: b[(r.lowerBound + 1)..<(r.upperBound - 1)])
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return try? JSONValue.parse(Array(b[r])).stringValue
    }

    private struct Scan {
        let b: UnsafeRawBufferPointer
        var pos: Int

        var peek: UInt8? { pos < b.count ? b[pos] : nil }

        mutating func space() {
            while pos < b.count, b[pos] == 32 || b[pos] == 10 || b[pos] == 13 || b[pos] == 9 { pos += 1 }
        }

        mutating func skipString() {
            pos += 1
            while pos < b.count {
                let c = b[pos]
                if c == UInt8(ascii: "\\") { pos += 2; continue }
                pos += 1
                if c == UInt8(ascii: "\"") { return }
            }
        }

        /// Skips one value; objects and arrays by counting brackets outside strings.
        mutating func skipValue() {
            guard let c = peek else { return }
            switch c {
            case UInt8(ascii: "\""):
                skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while pos < b.count {
                    let x = b[pos]
                    if x == UInt8(ascii: "\"") { skipString(); continue }
                    pos += 1
                    if x == UInt8(ascii: "{") || x == UInt8(ascii: "[") { depth += 1 }
                    else if x == UInt8(ascii: "}") || x == UInt8(ascii: "]") {
                        depth -= 1
                        if depth == 0 { return }
                    }
                }
            default:
                while pos < b.count, !",}] \n\r\t".utf8.contains(b[pos]) { pos += 1 }
            }
        }
    }
}
