import TestSupport

/// Deterministic mutations of a corpus, in the spirit of libFuzzer's: each input is a corpus entry
/// changed one to four times by a bit flip, a random byte, an insertion, a deletion, a duplicated
/// run, a splice with another entry, or a dictionary entry inserted, written over the bytes, or put
/// in place of a run of digits. The same seed, corpus and dictionary give the same inputs.
struct Mutator {
    private var random: SeededGenerator
    private let corpus: [[UInt8]]
    /// libFuzzer's dictionary of the targets (`Fuzz/kj.dict`): numbers at the edges, format tokens,
    /// varints.
    private let dictionary: [[UInt8]]
    /// Inputs are cut to this size, as libFuzzer's `-max_len` does.
    private let maxLength = 1 << 16

    init(seed: UInt64, corpus: [[UInt8]], dictionary: [[UInt8]]) {
        random = SeededGenerator(seed: seed)
        self.corpus = corpus
        self.dictionary = dictionary.isEmpty ? [[0]] : dictionary
    }

    /// The entries of a libFuzzer dictionary: one `"…"` (optionally `name="…"`) per line, with
    /// `\\`, `\"` and `\xAB` escapes; `#` lines are comments.
    static func dictionary(_ text: String) -> [[UInt8]] {
        text.split(separator: "\n").compactMap { line -> [UInt8]? in
            guard !line.hasPrefix("#"), let open = line.firstIndex(of: "\""), let close = line.lastIndex(of: "\""), open < close else { return nil }
            var out: [UInt8] = []
            var bytes = Array(line[line.index(after: open)..<close].utf8)[...]
            while let c = bytes.popFirst() {
                guard c == UInt8(ascii: "\\"), let e = bytes.popFirst() else { out.append(c); continue }
                if e == UInt8(ascii: "x"), bytes.count >= 2, let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                    out.append(v)
                    bytes = bytes.dropFirst(2)
                } else {
                    out.append(e)
                }
            }
            return out
        }
    }

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
            replaceDigits(&b, with: dictionary[pick(dictionary.count)])
        case 7:
            b.insert(contentsOf: dictionary[pick(dictionary.count)], at: pick(b.count + 1))
        case 8:
            let value = dictionary[pick(dictionary.count)]
            let at = pick(b.count + 1)
            b.replaceSubrange(at..<min(b.count, at + value.count), with: value)
        default:
            // Two entries at once: a token and a number (`: 1e308`, `*a` then `9223372036854775807`).
            b.insert(contentsOf: dictionary[pick(dictionary.count)] + dictionary[pick(dictionary.count)], at: pick(b.count + 1))
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
