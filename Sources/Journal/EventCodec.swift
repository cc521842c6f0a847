/// The canonical byte encoding of an event (format version 1), as `journal/FORMAT.md` defines it.
///
/// ```
/// u8      envelope version (1)
/// u64 BE  revision
/// i64 BE  time, microseconds since the Unix epoch
/// u8      flags: 1 cause, 2 observed, 4 trigger, 8 request
/// str     type, actor.kind, actor.name, object.kind, object.namespace, object.name, object.uid
/// u64 BE  cause, observed, trigger   (each only if its flag is set)
/// str     request                    (only if its flag is set)
/// bytes   data
/// ```
/// `str` and `bytes` are a LEB128 length followed by that many bytes (UTF-8 for `str`).
/// A stored record is the canonical bytes followed by the 32-byte chain hash.
enum EventCodec {
    static let envelopeVersion: UInt8 = 1
    static let hashSize = 32

    private static let hasCause: UInt8 = 1, hasObserved: UInt8 = 2, hasTrigger: UInt8 = 4, hasRequest: UInt8 = 8

    /// Writes the canonical bytes of `draft` at `revision` to `p`, which must have room for
    /// `encodedSize(draft)` bytes; returns that size.
    @discardableResult
    static func encode(revision: UInt64, draft: EventDraft, to p: UnsafeMutableRawPointer) -> Int {
        var w = RawWriter(p)
        w.u8(envelopeVersion)
        w.u64(revision)
        w.u64(UInt64(bitPattern: draft.time.microseconds))
        var flags: UInt8 = 0
        if draft.cause != nil { flags |= hasCause }
        if draft.observed != nil { flags |= hasObserved }
        if draft.trigger != nil { flags |= hasTrigger }
        if draft.request != nil { flags |= hasRequest }
        w.u8(flags)
        w.string(draft.type)
        w.string(draft.actor.kind)
        w.string(draft.actor.name)
        w.string(draft.object.kind)
        w.string(draft.object.namespace)
        w.string(draft.object.name)
        w.string(draft.object.uid)
        if let v = draft.cause { w.u64(v) }
        if let v = draft.observed { w.u64(v) }
        if let v = draft.trigger { w.u64(v) }
        if let r = draft.request { w.string(r) }
        w.varint(UInt64(draft.data.count))
        draft.data.withUnsafeBytes { w.bytes($0) }
        return w.offset
    }

    /// The size of the canonical bytes, without building them.
    static func encodedSize(_ draft: EventDraft) -> Int {
        var n = 1 + 8 + 8 + 1
        n += stringSize(draft.type) + stringSize(draft.actor.kind) + stringSize(draft.actor.name)
        n += stringSize(draft.object.kind) + stringSize(draft.object.namespace) + stringSize(draft.object.name)
        n += stringSize(draft.object.uid)
        n += 8 * ((draft.cause == nil ? 0 : 1) + (draft.observed == nil ? 0 : 1) + (draft.trigger == nil ? 0 : 1))
        if let r = draft.request { n += stringSize(r) }
        return n + varintSize(UInt64(draft.data.count)) + draft.data.count
    }

    /// Decodes a stored record (canonical bytes + hash). Nil if the bytes are not a valid record.
    static func decode(record: UnsafeRawBufferPointer) -> Event? {
        guard record.count > hashSize else { return nil }
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: record[..<(record.count - hashSize)]))
        guard r.u8() == envelopeVersion, let rev = r.u64(), let time = r.u64(), let flags = r.u8(),
              flags & ~(hasCause | hasObserved | hasTrigger | hasRequest) == 0,
              let type = r.string(), let actorKind = r.string(), let actorName = r.string(),
              let kind = r.string(), let namespace = r.string(), let name = r.string(), let uid = r.string()
        else { return nil }
        var cause: UInt64?, observed: UInt64?, trigger: UInt64?, request: String?
        if flags & hasCause != 0 { guard let v = r.u64() else { return nil }; cause = v }
        if flags & hasObserved != 0 { guard let v = r.u64() else { return nil }; observed = v }
        if flags & hasTrigger != 0 { guard let v = r.u64() else { return nil }; trigger = v }
        if flags & hasRequest != 0 { guard let v = r.string() else { return nil }; request = v }
        guard let data = r.bytes(), r.atEnd else { return nil }
        let hash = ChainHash(bytes: UnsafeRawBufferPointer(rebasing: record[(record.count - hashSize)...]))
        return Event(
            revision: rev,
            draft: EventDraft(
                time: Timestamp(microseconds: Int64(bitPattern: time)), type: type,
                actor: Actor(kind: actorKind, name: actorName),
                object: ObjectRef(kind: kind, namespace: namespace, name: name, uid: uid),
                cause: cause, observed: observed, trigger: trigger, request: request, data: data),
            hash: hash)
    }

    /// The parts of a stored record that folds need, without copying its data or decoding the
    /// actor and the optional fields. Nil if the record is not valid.
    static func header(record: UnsafeRawBufferPointer) -> EventHeader? {
        guard record.count > hashSize else { return nil }
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: record[..<(record.count - hashSize)]))
        guard r.u8() == envelopeVersion, let rev = r.u64(), let time = r.u64(), let flags = r.u8(),
              let type = r.string(), r.skipString(), r.skipString(),
              let kind = r.string(), let namespace = r.string(), let name = r.string(), let uid = r.string()
        else { return nil }
        for flag in [hasCause, hasObserved, hasTrigger] where flags & flag != 0 { guard r.u64() != nil else { return nil } }
        if flags & hasRequest != 0 { guard r.skipString() else { return nil } }
        guard let data = r.slice(), r.atEnd else { return nil }
        return EventHeader(
            revision: rev, time: Timestamp(microseconds: Int64(bitPattern: time)), type: type,
            object: ObjectRef(kind: kind, namespace: namespace, name: name, uid: uid), data: data, record: record)
    }

    /// The revision and time of a stored record, if `decode` would accept it, read without
    /// building the event (for checking the chain of many records).
    static func scan(record: UnsafeRawBufferPointer) -> (revision: UInt64, time: Timestamp)? {
        guard record.count > hashSize else { return nil }
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: record[..<(record.count - hashSize)]))
        guard r.u8() == envelopeVersion, let rev = r.u64(), let time = r.u64(), let flags = r.u8(),
              flags & ~(hasCause | hasObserved | hasTrigger | hasRequest) == 0
        else { return nil }
        for _ in 0..<7 { guard r.skipString() else { return nil } }
        let links = (flags & (hasCause | hasObserved | hasTrigger)).nonzeroBitCount
        for _ in 0..<links { guard r.u64() != nil else { return nil } }
        if flags & hasRequest != 0 { guard r.skipString() else { return nil } }
        guard r.slice() != nil, r.atEnd else { return nil }
        return (rev, Timestamp(microseconds: Int64(bitPattern: time)))
    }

    /// The actor of a stored record, read without decoding the rest.
    static func actor(record: UnsafeRawBufferPointer) -> Actor? {
        var r = ByteReader(record)
        guard r.u8() == envelopeVersion, r.u64() != nil, r.u64() != nil, r.u8() != nil, r.skipString(),
              let kind = r.string(), let name = r.string() else { return nil }
        return Actor(kind: kind, name: name)
    }

    /// The revision and time of a stored record, read without decoding the rest.
    static func peekRevisionAndTime(record: UnsafeRawBufferPointer) -> (UInt64, Timestamp)? {
        var r = ByteReader(record)
        guard r.u8() == envelopeVersion, let rev = r.u64(), let t = r.u64() else { return nil }
        return (rev, Timestamp(microseconds: Int64(bitPattern: t)))
    }

    // MARK: primitives

    static func putU64(_ v: UInt64, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) }
    }

    private static func stringSize(_ s: String) -> Int {
        let n = s.utf8.count
        return varintSize(UInt64(n)) + n
    }

    static func varintSize(_ v: UInt64) -> Int {
        var n = 1
        var v = v
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }
}

/// Unchecked writing into a buffer the caller sized with `EventCodec.encodedSize`.
struct RawWriter {
    private let base: UnsafeMutableRawPointer
    private(set) var offset = 0

    init(_ base: UnsafeMutableRawPointer) { self.base = base }

    @inline(__always) mutating func u8(_ v: UInt8) {
        base.storeBytes(of: v, toByteOffset: offset, as: UInt8.self)
        offset += 1
    }

    @inline(__always) mutating func u64(_ v: UInt64) {
        base.storeBytes(of: v.bigEndian, toByteOffset: offset, as: UInt64.self)
        offset += 8
    }

    @inline(__always) mutating func varint(_ v0: UInt64) {
        var v = v0
        while v >= 0x80 {
            u8(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        u8(UInt8(v))
    }

    @inline(__always) mutating func bytes(_ b: UnsafeRawBufferPointer) {
        guard let src = b.baseAddress, b.count > 0 else { return }
        (base + offset).copyMemory(from: src, byteCount: b.count)
        offset += b.count
    }

    mutating func string(_ s: String) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { u in
            varint(UInt64(u.count))
            bytes(UnsafeRawBufferPointer(u))
        }
        if done == nil {
            let copy = Array(s.utf8)
            varint(UInt64(copy.count))
            copy.withUnsafeBytes { bytes($0) }
        }
    }
}

/// Bounds-checked reading of the canonical encoding.
struct ByteReader {
    private let buf: UnsafeRawBufferPointer
    private var pos = 0

    init(_ buf: UnsafeRawBufferPointer) { self.buf = buf }

    var atEnd: Bool { pos == buf.count }

    mutating func u8() -> UInt8? {
        guard pos < buf.count else { return nil }
        defer { pos += 1 }
        return buf[pos]
    }

    mutating func u64() -> UInt64? {
        guard pos + 8 <= buf.count else { return nil }
        defer { pos += 8 }
        return UInt64(bigEndian: buf.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
    }

    mutating func varint() -> UInt64? {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while pos < buf.count, shift < 64 {
            let b = buf[pos]
            pos += 1
            v |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return v }
            shift += 7
        }
        return nil
    }

    mutating func skipString() -> Bool { slice() != nil }

    mutating func slice() -> UnsafeRawBufferPointer? {
        guard let n = varint(), n <= UInt64(buf.count - pos) else { return nil }
        defer { pos += Int(n) }
        return UnsafeRawBufferPointer(rebasing: buf[pos..<pos + Int(n)])
    }

    mutating func string() -> String? {
        guard let s = slice() else { return nil }
        return String(decoding: s.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }

    mutating func bytes() -> [UInt8]? {
        slice().map { [UInt8]($0) }
    }
}
