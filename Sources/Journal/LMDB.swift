import CLMDB
import Foundation
import Glibc
import Synchronization

// Thin, internal helpers over the liblmdb C API. Everything here is synchronous: a transaction and
// its cursors are used by one thread and end before the function that began them returns.

/// Translates an LMDB return code into a readable `JournalError`. `path` names the journal.
func lmdbError(_ rc: Int32, path: String, doing what: String) -> JournalError {
    let status = LMDBStatus(rawValue: rc, text: String(cString: mdb_strerror(rc)))
    switch rc {
    case EACCES, EPERM:
        return JournalError(.permissionDenied, "permission denied while \(what) the journal at \(path)", underlying: status)
    case ENOSPC, EDQUOT:
        return JournalError(.noSpace, "no space left on the device while \(what) the journal at \(path)", underlying: status)
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
struct Databases: Sendable, Equatable {
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

    /// A `head` or `verified_through` value: revision u64 BE, time i64 BE, hash (48 bytes).
    static func point(_ h: Head) -> [UInt8] {
        var value: [UInt8] = []
        value.reserveCapacity(48)
        EventCodec.putU64(h.revision, &value)
        EventCodec.putU64(UInt64(bitPattern: h.time.microseconds), &value)
        h.hash.write(to: &value)
        return value
    }

    static func decodePoint(_ raw: [UInt8]) -> Head? {
        guard raw.count == 48 else { return nil }
        return raw.withUnsafeBytes { b in
            Head(
                revision: UInt64(bigEndian: b.loadUnaligned(as: UInt64.self)),
                hash: ChainHash(bytes: UnsafeRawBufferPointer(rebasing: b[16..<48])),
                time: Timestamp(microseconds: Int64(bitPattern: UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))))
        }
    }

    static let longestObjectKey = 511  // LMDB's key limit.

    // meta keys
    static let formatVersion = Array("format_version".utf8)
    static let clusterID = Array("cluster_id".utf8)
    static let head = Array("head".utf8)
    static let verifiedThrough = Array("verified_through".utf8)
}

/// A pthread read-write lock: transactions hold it shared, growing or re-opening the map holds it
/// exclusively (LMDB allows `mdb_env_set_mapsize` only while this process has no transaction open).
///
/// It also knows where the map is and how much of it the data file backs, so that what LMDB hands
/// out can be checked before it is read (`holds`): the map's address and size change only inside
/// `exclusive`, and are read under `shared`.
final class MapGate: @unchecked Sendable {
    /// Allocated once: a pthread lock must not move, and `&` on a stored property promises no
    /// stable address.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t> = .allocate(capacity: 1)
    private var base: UInt = 0
    private var mapEnd: UInt = 0
    private var fd: Int32 = -1
    /// The data file's size when last looked at; it grows as the writer (in any process) appends.
    private let fileSize = Atomic<Int>(0)

    init() {
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func shared<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func exclusive<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    /// Takes the map's place from `env`: at open, and inside `exclusive` after the map changed.
    func mapped(_ env: OpaquePointer) {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        var handle: mdb_filehandle_t = -1
        mdb_env_get_fd(env, &handle)
        fd = handle
        var st = stat()
        guard fstat(fd, &st) == 0, let start = Self.mapping(ofInode: UInt64(st.st_ino), length: info.me_mapsize) else {
            (base, mapEnd) = (0, 0)
            return
        }
        (base, mapEnd) = (start, start + UInt(info.me_mapsize))
        refreshFileSize()
    }

    /// Where the process maps `length` bytes of the file with inode `inode` from its start, as
    /// /proc/self/maps says (LMDB does not tell: `mdb_env_info` gives the map's address only for
    /// `MDB_FIXEDMAP`); nil unless exactly one mapping matches.
    private static func mapping(ofInode inode: UInt64, length: Int) -> UInt? {
        guard let maps = FileHandle(forReadingAtPath: "/proc/self/maps") else { return nil }
        defer { try? maps.close() }
        let text = String(decoding: maps.readDataToEndOfFile(), as: UTF8.self)
        var found: [UInt] = []
        // start-end perms offset dev inode path
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count >= 5, UInt64(fields[4]) == inode, UInt64(fields[2], radix: 16) == 0 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
                  end - start == UInt(length) else { continue }
            found.append(start)
        }
        return found.count == 1 ? found[0] : nil
    }

    /// Whether the `count` bytes at `pointer`, which LMDB returned, may be read: inside the map they
    /// must lie within the data file (beyond its end a read raises SIGBUS). Outside the map are only
    /// the pages a write transaction has changed and not yet written (`writing`). Where the map is
    /// could not be found out, nothing can be checked.
    func holds(_ pointer: UnsafeMutableRawPointer?, count: Int, writing: Bool) -> Bool {
        guard count > 0 else { return true }
        guard let pointer else { return false }
        guard mapEnd > 0 else { return true }
        let start = UInt(bitPattern: pointer)
        guard start >= base, start < mapEnd else { return writing }
        let (end, overflow) = start.addingReportingOverflow(UInt(count))
        guard !overflow, end <= mapEnd else { return false }
        if end <= base + UInt(fileSize.load(ordering: .relaxed)) { return true }
        refreshFileSize()
        return end <= base + UInt(fileSize.load(ordering: .relaxed))
    }

    /// The `count` bytes at `offset` in the data file, read through the map, if they lie within
    /// both; nil otherwise, or when where the map is could not be found out.
    func mapped(offset: Int, count: Int) -> UnsafeRawBufferPointer? {
        guard mapEnd > 0, offset >= 0, count >= 0, offset <= Int(mapEnd - base) - count else { return nil }
        let start = UnsafeMutableRawPointer(bitPattern: base + UInt(offset))
        return holds(start, count: count, writing: false) ? UnsafeRawBufferPointer(start: start, count: count) : nil
    }

    private func refreshFileSize() {
        var st = stat()
        if fd >= 0, fstat(fd, &st) == 0 { fileSize.store(Int(st.st_size), ordering: .relaxed) }
    }
}
