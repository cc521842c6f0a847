import Crypto

/// A SHA-256 digest in the journal's hash chain (invariant 8 of the architecture).
///
/// `hash(n) = SHA-256(hash(n-1) ‖ canonical bytes of event n)`, with `hash(0)` all zero bytes.
public struct ChainHash: Hashable, Sendable, CustomStringConvertible {
    // Four big-endian words, so the value needs no allocation.
    private var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The hash before the first event: 32 zero bytes.
    public static let zero = ChainHash(w0: 0, w1: 0, w2: 0, w3: 0)

    private init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3)
    }

    /// Reads 32 bytes.
    public init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 32)
        func word(_ i: Int) -> UInt64 { UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
        self.init(w0: word(0), w1: word(1), w2: word(2), w3: word(3))
    }

    /// Parses 64 hexadecimal digits.
    public init?(hex: some StringProtocol) {
        let u = Array(hex.utf8)
        guard u.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let hi = hexValue(u[2 * i]), let lo = hexValue(u[2 * i + 1]) else { return nil }
            bytes[i] = hi << 4 | lo
        }
        self = bytes.withUnsafeBytes { ChainHash(bytes: $0) }
    }

    /// The next link: SHA-256 of this hash followed by `canonical`.
    public func chained(with canonical: UnsafeRawBufferPointer) -> ChainHash {
        var hasher = SHA256()
        withUnsafeBytes(of: bigEndianWords) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: canonical)
        return hasher.finalize().withUnsafeBytes { ChainHash(bytes: $0) }
    }

    /// SHA-256 of `bytes` (which the caller laid out as previous hash ‖ canonical bytes).
    static func digest(of bytes: UnsafeRawBufferPointer) -> ChainHash {
        SHA256.hash(data: bytes).withUnsafeBytes { ChainHash(bytes: $0) }
    }

    /// Stores the 32 bytes at `p`.
    func store(to p: UnsafeMutableRawPointer) {
        withUnsafeBytes(of: bigEndianWords) { p.copyMemory(from: $0.baseAddress!, byteCount: 32) }
    }

    /// Appends the 32 bytes to `out`.
    public func write(to out: inout [UInt8]) {
        withUnsafeBytes(of: bigEndianWords) { out.append(contentsOf: $0) }
    }

    private var bigEndianWords: (UInt64, UInt64, UInt64, UInt64) {
        (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)
    }

    /// 64 lowercase hexadecimal digits.
    public var hex: String {
        var s = ""
        s.reserveCapacity(64)
        for w in [w0, w1, w2, w3] {
            let h = String(w, radix: 16)
            s += String(repeating: "0", count: 16 - h.count) + h
        }
        return s
    }

    /// The first 12 hex digits, for tables.
    public var short: String { String(hex.prefix(12)) }

    public var description: String { hex }
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: c - 48
    case 97...102: c - 87
    case 65...70: c - 55
    default: nil
    }
}
