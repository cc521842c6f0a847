/// A small, strict JSON (RFC 8259) scanner: the journal checks that event payloads are JSON
/// and reads its own NDJSON export back without re-encoding payloads (their bytes are hashed).
public enum JSONSyntax {
    /// A syntax error at a byte offset.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let offset: Int
        public let reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// Throws unless `text` is exactly one JSON value, optionally surrounded by white space.
    public static func validate(_ text: UnsafeRawBufferPointer) throws {
        var s = Scanner(text)
        s.skipSpace()
        try s.skipValue(depth: 0)
        s.skipSpace()
        guard s.pos == text.count else { throw s.fail("unexpected data after the JSON value") }
        // Outside strings a valid text is ASCII, so this checks every string's UTF-8 (RFC 8259 §8.1):
        // bytes that are not UTF-8 would be exported as U+FFFD and the export would no longer import.
        guard String(validating: text.assumingMemoryBound(to: UInt8.self), as: UTF8.self) != nil else {
            throw JSONSyntax.Failure(offset: firstInvalidUTF8(text), reason: "invalid UTF-8 in string")
        }
    }

    /// The offset of the first byte of `text` that does not begin a valid UTF-8 sequence.
    static func firstInvalidUTF8(_ text: UnsafeRawBufferPointer) -> Int {
        var parser = Unicode.UTF8.ForwardParser(), bytes = text.makeIterator(), offset = 0
        while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid(let scalar): offset += scalar.count
            case .error, .emptyInput: return offset
            }
        }
    }

    /// The members of a top-level JSON object: each key, decoded, with the byte range of its value.
    public static func objectMembers(_ text: UnsafeRawBufferPointer) throws -> [(key: String, value: Range<Int>)] {
        var s = Scanner(text)
        var members: [(String, Range<Int>)] = []
        s.skipSpace()
        try s.expect(UInt8(ascii: "{"))
        s.skipSpace()
        if s.peek == UInt8(ascii: "}") {
            s.pos += 1
        } else {
            while true {
                s.skipSpace()
                let key = try s.string()
                s.skipSpace()
                try s.expect(UInt8(ascii: ":"))
                s.skipSpace()
                let start = s.pos
                try s.skipValue(depth: 1)
                members.append((key, start..<s.pos))
                s.skipSpace()
                if s.peek == UInt8(ascii: ",") { s.pos += 1; continue }
                try s.expect(UInt8(ascii: "}"))
                break
            }
        }
        s.skipSpace()
        guard s.pos == text.count else { throw s.fail("unexpected data after the JSON object") }
        return members
    }

    /// Decodes a JSON string literal (the whole of `text`).
    public static func string(_ text: UnsafeRawBufferPointer) throws -> String {
        var s = Scanner(text)
        let v = try s.string()
        guard s.pos == text.count else { throw s.fail("expected a string") }
        return v
    }

    /// Decodes a non-negative JSON integer (the whole of `text`).
    public static func unsignedInteger(_ text: UnsafeRawBufferPointer) throws -> UInt64 {
        guard !text.isEmpty, text.count <= 20, text.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              text.count == 1 || text[0] != 48,
              let v = UInt64(String(decoding: text, as: UTF8.self))
        else { throw Failure(offset: 0, reason: "expected a non-negative integer") }
        return v
    }

    /// `s` as a JSON string literal, quotes included.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

private struct Scanner {
    let b: UnsafeRawBufferPointer
    var pos = 0
    static let maxDepth = 512

    init(_ b: UnsafeRawBufferPointer) { self.b = b }

    var peek: UInt8? { pos < b.count ? b[pos] : nil }

    func fail(_ reason: String) -> JSONSyntax.Failure { JSONSyntax.Failure(offset: pos, reason: reason) }

    mutating func skipSpace() {
        while pos < b.count, b[pos] == 0x20 || b[pos] == 0x0a || b[pos] == 0x0d || b[pos] == 0x09 { pos += 1 }
    }

    mutating func expect(_ c: UInt8) throws {
        guard peek == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        pos += 1
    }

    mutating func skipValue(depth: Int) throws {
        guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        guard let c = peek else { throw fail("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"):
            pos += 1
            skipSpace()
            if peek == UInt8(ascii: "}") { pos += 1; return }
            while true {
                skipSpace()
                try skipString()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                try skipValue(depth: depth + 1)
                skipSpace()
                if peek == UInt8(ascii: ",") { pos += 1; continue }
                try expect(UInt8(ascii: "}"))
                return
            }
        case UInt8(ascii: "["):
            pos += 1
            skipSpace()
            if peek == UInt8(ascii: "]") { pos += 1; return }
            while true {
                skipSpace()
                try skipValue(depth: depth + 1)
                skipSpace()
                if peek == UInt8(ascii: ",") { pos += 1; continue }
                try expect(UInt8(ascii: "]"))
                return
            }
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try number()
        default:
            throw fail("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard pos + n <= b.count else { throw fail("unexpected end of input") }
        for i in 0..<n where b[pos + i] != word.utf8Start[i] { throw fail("invalid literal") }
        pos += n
    }

    mutating func number() throws {
        if peek == UInt8(ascii: "-") { pos += 1 }
        guard let first = peek, first >= 48, first <= 57 else { throw fail("invalid number") }
        pos += 1
        if first != 48 { digits() }
        if peek == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw fail("invalid number") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            pos += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw fail("invalid number") }
        }
    }

    @discardableResult
    mutating func digits() -> Int {
        let start = pos
        while pos < b.count, b[pos] >= 48, b[pos] <= 57 { pos += 1 }
        return pos - start
    }

    mutating func skipString() throws {
        try expect(UInt8(ascii: "\""))
        while pos < b.count {
            // Eight bytes at a time while none of them is a quote, a backslash or a control character.
            while pos + 8 <= b.count, !Self.mayEndString(b.loadUnaligned(fromByteOffset: pos, as: UInt64.self)) {
                pos += 8
            }
            guard pos < b.count else { break }
            let c = b[pos]
            if c == UInt8(ascii: "\"") { pos += 1; return }
            if c < 0x20 { throw fail("control character in string") }
            if c == UInt8(ascii: "\\") {
                pos += 1
                guard let e = peek else { break }
                if e == UInt8(ascii: "u") {
                    guard pos + 4 < b.count, (1...4).allSatisfy({ isHex(b[pos + $0]) }) else { throw fail("invalid \\u escape") }
                    pos += 5
                    continue
                }
                guard "\"\\/bfnrt".utf8.contains(e) else { throw fail("invalid escape") }
            }
            pos += 1
        }
        throw fail("unterminated string")
    }

    /// Whether any byte of `w` is `"`, `\` or below 0x20 (SWAR; may not say which).
    @inline(__always)
    static func mayEndString(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
        let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
        let control = (w &- ones &* 0x20) & ~w & highs
        return hasZeroByte(quote) || hasZeroByte(backslash) || control != 0
    }

    mutating func string() throws -> String {
        let start = pos
        try skipString()
        let raw = UnsafeRawBufferPointer(rebasing: b[(start + 1)..<(pos - 1)])
        if !raw.contains(UInt8(ascii: "\\")) {
            guard let s = String(validating: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
                throw JSONSyntax.Failure(offset: start, reason: "invalid UTF-8 in string")
            }
            return s
        }
        var out: [UInt8] = []
        var i = 0
        var pendingHigh: UInt32?
        func appendScalar(_ v: UInt32) {
            var buf = ""
            buf.unicodeScalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            out.append(contentsOf: buf.utf8)
        }
        while i < raw.count {
            let c = raw[i]
            guard c == UInt8(ascii: "\\") else {
                if let h = pendingHigh { appendScalar(h); pendingHigh = nil }
                out.append(c); i += 1; continue
            }
            let e = raw[i + 1]
            i += 2
            if e == UInt8(ascii: "u") {
                let v = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: raw[i..<i + 4]), as: UTF8.self), radix: 16)!
                i += 4
                if (0xD800...0xDBFF).contains(v) {
                    if let h = pendingHigh { appendScalar(h) }
                    pendingHigh = v
                } else if (0xDC00...0xDFFF).contains(v), let h = pendingHigh {
                    appendScalar(0x10000 + ((h - 0xD800) << 10) + (v - 0xDC00))
                    pendingHigh = nil
                } else {
                    if let h = pendingHigh { appendScalar(h); pendingHigh = nil }
                    appendScalar(v)
                }
                continue
            }
            if let h = pendingHigh { appendScalar(h); pendingHigh = nil }
            switch e {
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            default: out.append(e)
            }
        }
        if let h = pendingHigh { appendScalar(h) }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw JSONSyntax.Failure(offset: start, reason: "invalid UTF-8 in string")
        }
        return s
    }
}

private func isHex(_ c: UInt8) -> Bool {
    (48...57).contains(c) || (65...70).contains(c) || (97...102).contains(c)
}
