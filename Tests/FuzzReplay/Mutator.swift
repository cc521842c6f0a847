import TestSupport

/// Deterministic mutations of a corpus, in the spirit of libFuzzer's: each input is a corpus entry
/// changed one to four times by a bit flip, a random byte, an insertion, a deletion, a duplicated
/// run, a splice with another entry, an interesting number in place of a run of digits, or an
/// interesting token or binary integer inserted. The same seed and corpus give the same inputs.
struct Mutator {
    private var random: SeededGenerator
    private let corpus: [[UInt8]]
    /// Inputs are cut to this size, as libFuzzer's `-max_len` does.
    private let maxLength = 1 << 16

    init(seed: UInt64, corpus: [[UInt8]]) {
        random = SeededGenerator(seed: seed)
        self.corpus = corpus
    }

    /// Numbers at the edges of what the decoders hold: Int64 and Int32 limits and past them, huge
    /// and tiny doubles, quantities the issue crashed on.
    static let numbers = [
        "0", "-1", "1", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "2147483647", "2147483648", "-2147483649", "4294967296", "18446744073709551616", "9223372036854775",
        "5000000000000000", "1e308", "-1e308", "1e309", "1e-400", "4.9e-324", "0.000000001", "123456789012345678901234567890",
        "1e2147483647", "8Ei", "16Ei", "1Ki", "1n", "999999999999999999999m", "0.5", "-0",
    ].map { Array($0.utf8) }

    /// Tokens of the formats the targets read: JSON, YAML (aliases, tags), selectors, pointers.
    static let tokens = [
        "{", "}", "[", "]", "\"", ",", ":", "null", "true", "\n", "\\u", "\\ud800", "&a ", "*a", "<<: ", "!!str ", "---\n",
        "- ", "$patch", "$retainKeys", "$setElementOrder/", "$deleteFromPrimitiveList/", "/-", "~1", "!=", " in (", " notin (",
        "!", "=", "\u{0}", "\u{FFFD}", "Gi", "m", "e", "E", "Z", "+01:00",
    ].map { Array($0.utf8) }

    /// Binary values for the protobuf and record readers: varint and length limits.
    static let binary: [[UInt8]] = [
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
        [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x7F], [0x80, 0x01], [0x00], [0xFF], [0x0A, 0x00], [0x12, 0xFF, 0x01],
        [0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
    ]

    /// The next input.
    mutating func next() -> [UInt8] {
        var b = corpus[pick(corpus.count)]
        for _ in 0...pick(4) { mutate(&b) }
        return b.count > maxLength ? Array(b.prefix(maxLength)) : b
    }

    private mutating func pick(_ n: Int) -> Int { n <= 1 ? 0 : Int(random.next() % UInt64(n)) }

    private mutating func mutate(_ b: inout [UInt8]) {
        switch pick(10) {
        case 0 where !b.isEmpty:
            b[pick(b.count)] ^= 1 << UInt8(pick(8))
        case 1 where !b.isEmpty:
            b[pick(b.count)] = UInt8(truncatingIfNeeded: random.next())
        case 2:
            b.insert(contentsOf: (0...pick(3)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: pick(b.count + 1))
        case 3 where !b.isEmpty:
            let start = pick(b.count)
            b.removeSubrange(start..<min(b.count, start + 1 + pick(16)))
        case 4 where !b.isEmpty:
            let start = pick(b.count)
            let run = b[start..<min(b.count, start + 1 + pick(64))]
            b.insert(contentsOf: Array(run), at: pick(b.count + 1))
        case 5:
            let other = corpus[pick(corpus.count)]
            b = Array(b.prefix(pick(b.count + 1))) + Array(other.suffix(pick(other.count + 1)))
        case 6:
            replaceDigits(&b, with: Self.numbers[pick(Self.numbers.count)])
        case 7:
            b.insert(contentsOf: Self.tokens[pick(Self.tokens.count)], at: pick(b.count + 1))
        case 8:
            let value = Self.binary[pick(Self.binary.count)]
            let at = pick(b.count + 1)
            b.replaceSubrange(at..<min(b.count, at + value.count), with: value)
        default:
            b.insert(contentsOf: Self.numbers[pick(Self.numbers.count)], at: pick(b.count + 1))
        }
    }

    /// Replaces a run of digits (one picked at random; the end when there is none) with `number`.
    private mutating func replaceDigits(_ b: inout [UInt8], with number: [UInt8]) {
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        let starts = b.indices.filter { isDigit(b[$0]) && ($0 == 0 || !isDigit(b[$0 - 1])) }
        guard !starts.isEmpty else { b += number; return }
        let start = starts[pick(starts.count)]
        var end = start
        while end < b.count, isDigit(b[end]) { end += 1 }
        b.replaceSubrange(start..<end, with: number)
    }
}
