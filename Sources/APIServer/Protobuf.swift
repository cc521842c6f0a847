/// A reader of the protobuf wire format, as much of it as Kubernetes' proto2 messages use:
/// varints, length-delimited fields (strings, bytes, embedded messages, map entries) and, to be
/// skipped, fixed 32- and 64-bit fields. Offsets are absolute positions in the buffer being read,
/// so an error can name the byte it stopped at.
struct ProtobufReader {
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5

        var name: String {
            switch self {
            case .varint: "varint"
            case .fixed64: "fixed64"
            case .lengthDelimited: "length-delimited"
            case .startGroup: "start-group"
            case .endGroup: "end-group"
            case .fixed32: "fixed32"
            }
        }
    }

    /// A field's key: its number, how its value is encoded, and where the key starts.
    struct Key {
        var number: Int
        var wireType: WireType
        var offset: Int
    }

    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    /// Reads `bytes[range]` (the whole buffer by default).
    init(_ bytes: [UInt8], range: Range<Int>? = nil) {
        self.bytes = bytes
        position = range?.lowerBound ?? 0
        end = range?.upperBound ?? bytes.count
    }

    var atEnd: Bool { position >= end }

    /// The next field's key, or nil at the end of the message.
    mutating func nextKey() throws(ProtobufError) -> Key? {
        guard !atEnd else { return nil }
        let offset = position
        let key = try varint()
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw ProtobufError(offset: offset, "invalid wire type \(key & 7)")
        }
        let number = key >> 3
        guard number >= 1, number <= 536_870_911 else { throw ProtobufError(offset: offset, "invalid field number \(number)") }
        return Key(number: Int(number), wireType: wireType, offset: offset)
    }

    /// A base-128 varint (at most ten bytes).
    mutating func varint() throws(ProtobufError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw ProtobufError(offset: start, "truncated varint") }
            let byte = bytes[position]
            position += 1
            guard shift < 64, shift < 63 || byte <= 1 else { throw ProtobufError(offset: start, "varint longer than 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// The extent of a length-delimited value; the reader moves past it.
    mutating func lengthDelimited() throws(ProtobufError) -> Range<Int> {
        let start = position
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw ProtobufError(offset: start, "length \(length) runs past the end of the enclosing message (\(end - position) bytes left)")
        }
        let range = position..<position + Int(length)
        position = range.upperBound
        return range
    }

    /// Moves past a value of `key`'s wire type.
    mutating func skip(_ key: Key) throws(ProtobufError) {
        switch key.wireType {
        case .varint: _ = try varint()
        case .lengthDelimited: _ = try lengthDelimited()
        case .fixed64: try advance(8, key)
        case .fixed32: try advance(4, key)
        case .startGroup, .endGroup:
            throw ProtobufError(offset: key.offset, "field \(key.number) uses groups, which Kubernetes messages never do")
        }
    }

    private mutating func advance(_ count: Int, _ key: Key) throws(ProtobufError) {
        guard end - position >= count else { throw ProtobufError(offset: key.offset, "truncated \(key.wireType.name) field \(key.number)") }
        position += count
    }
}

/// Malformed protobuf input, with the offset of the byte where reading failed.
struct ProtobufError: Error, CustomStringConvertible, Sendable {
    var offset: Int
    var message: String

    init(offset: Int, _ message: String) {
        self.offset = offset
        self.message = message
    }

    var description: String { "at byte \(offset): \(message)" }
}
