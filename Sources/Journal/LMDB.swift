import CLMDB
import Glibc

// Thin, internal helpers over the liblmdb C API. Everything here is synchronous: a transaction and
// its cursors are used by one thread and end before the function that began them returns.

/// Translates an LMDB return code into a readable `JournalError`. `path` names the journal.
func lmdbError(_ rc: Int32, path: String, doing what: String) -> JournalError {
    let status = LMDBStatus(rawValue: rc, text: String(cString: mdb_strerror(rc)))
    switch rc {
    case EACCES, EPERM:
        return JournalError(.permissionDenied, "permission denied while \(what) the journal at \(path)", underlying: status)
    case ENOSPC:
        return JournalError(.io, "no space left on the device while \(what) the journal at \(path)", underlying: status)
    case MDB_INVALID:
        return JournalError(.notAJournal, "\(path) does not hold a journal (its data file is not an LMDB file)", underlying: status)
    case MDB_VERSION_MISMATCH:
        return JournalError(.formatTooNew, "the journal at \(path) was written by an incompatible LMDB version", underlying: status)
    case MDB_CORRUPTED, MDB_PAGE_NOTFOUND:
        return JournalError(.corrupted, "the journal at \(path) is corrupted (\(status.text)) while \(what) it", underlying: status)
    case MDB_READERS_FULL:
        return JournalError(.io, "too many processes and threads are reading the journal at \(path)", underlying: status)
    default:
        return JournalError(.io, "\(what) the journal at \(path) failed: \(status.text)", underlying: status)
    }
}

/// Named databases of one journal (see `journal/FORMAT.md`).
struct Databases: Sendable {
    var events: MDB_dbi
    var byObject: MDB_dbi
    var byTime: MDB_dbi
    var byCause: MDB_dbi
    var snapshots: MDB_dbi
    var meta: MDB_dbi

    static let names = ["events", "by_object", "by_time", "by_cause", "snapshots", "meta"]
    /// The handle of a database the journal does not have (only `by_cause`, in journals written
    /// before it existed and opened read-only).
    static let absent = MDB_dbi.max
    var hasCauseIndex: Bool { byCause != Self.absent }
}

/// Calls `body` with an `MDB_val` over `bytes`, valid only during the call.
@inline(__always)
func withVal<R>(_ bytes: [UInt8], _ body: (inout MDB_val) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes { raw in
        var v = MDB_val(mv_size: raw.count, mv_data: UnsafeMutableRawPointer(mutating: raw.baseAddress))
        return try body(&v)
    }
}

extension MDB_val {
    /// The bytes the value points to; valid only while its transaction lives.
    var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: mv_data, count: mv_size) }
}

/// A cursor for the life of one closure.
func withCursor<R>(_ txn: OpaquePointer, _ dbi: MDB_dbi, path: String, _ body: (OpaquePointer) throws -> R) throws -> R {
    var cursor: OpaquePointer?
    let rc = mdb_cursor_open(txn, dbi, &cursor)
    guard rc == 0, let cursor else { throw lmdbError(rc, path: path, doing: "reading") }
    defer { mdb_cursor_close(cursor) }
    return try body(cursor)
}

/// Key encodings shared by writer, reader and verifier.
enum Keys {
    static func revision(_ rev: UInt64) -> [UInt8] {
        withUnsafeBytes(of: rev.bigEndian) { Array($0) }
    }

    static func decodeRevision(_ raw: UnsafeRawBufferPointer) -> UInt64? {
        guard raw.count == 8 else { return nil }
        return UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self))
    }

    /// The `by_object` key: `kind 0x00 namespace 0x00 name`. Its values (LMDB duplicates, sorted)
    /// are the 8-byte big-endian revisions of the object's events.
    static func object(_ key: ObjectKey) -> [UInt8] {
        var k: [UInt8] = []
        k.append(contentsOf: key.kind.utf8); k.append(0)
        k.append(contentsOf: key.namespace.utf8); k.append(0)
        k.append(contentsOf: key.name.utf8)
        return k
    }

    /// The `by_time` key: time with the sign bit flipped (so negative times sort first), then the
    /// revision, both big-endian.
    static func time(_ t: Timestamp, _ rev: UInt64) -> [UInt8] {
        var k: [UInt8] = []
        k.reserveCapacity(16)
        EventCodec.putU64(UInt64(bitPattern: t.microseconds) ^ (1 << 63), &k)
        EventCodec.putU64(rev, &k)
        return k
    }

    /// The revision in the last 8 bytes of an index key.
    static func trailingRevision(_ raw: UnsafeRawBufferPointer) -> UInt64? {
        guard raw.count >= 8 else { return nil }
        return UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self))
    }

    static let longestObjectKey = 511  // LMDB's key limit.

    // meta keys
    static let formatVersion = Array("format_version".utf8)
    static let clusterID = Array("cluster_id".utf8)
    static let head = Array("head".utf8)
}

/// A pthread read-write lock: read transactions hold it shared, growing the map holds it exclusively
/// (LMDB allows `mdb_env_set_mapsize` only while this process has no transaction open).
final class MapGate: @unchecked Sendable {
    private var lock = pthread_rwlock_t()

    init() { pthread_rwlock_init(&lock, nil) }
    deinit { pthread_rwlock_destroy(&lock) }

    func shared<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }

    func exclusive<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }
}
