import Foundation
import Glibc

/// What the journal checks in `data.mdb` itself, before LMDB maps it: LMDB trusts its meta pages,
/// and a file shorter than they say ends in SIGBUS at the first read of a missing page.
///
/// The layout read here is LMDB 0.9's on a 64-bit little-endian machine (`mdb.c`: `MDB_page`,
/// `MDB_meta`, `MDB_db`): pages 0 and 1 are meta pages, each a 16-byte page header followed by
/// the meta; the one with the higher transaction id is the current one.
enum DataFile {
    /// One meta page, as far as the checks need it.
    struct Meta {
        var index: Int
        var pageSize: Int
        var mapSize: UInt64
        var lastPage: UInt64
        var transaction: UInt64
        /// Roots of the free-page and main databases (`invalidPage` when empty).
        var roots: [UInt64]
        /// Depths of the same two trees.
        var depths: [UInt16]

        /// The bytes the pages in use take: the data file must be at least this long.
        var usedBytes: UInt64? {
            let (n, overflow) = (lastPage &+ 1).multipliedReportingOverflow(by: UInt64(pageSize))
            return overflow || lastPage == .max ? nil : n
        }
    }

    static let metaSize = 152
    static let magic: UInt32 = 0xBEEF_C0DE
    static let dataVersion: UInt32 = 1
    static let metaFlag: UInt16 = 0x08
    static let invalidPage = UInt64.max
    /// LMDB's `CURSOR_STACK`: no tree is deeper.
    static let maxDepth: UInt16 = 32

    /// Refuses a data file that LMDB could not map safely: one whose meta pages are damaged
    /// (`.corrupted`, or `.notAJournal` when neither looks like LMDB's) or that is shorter than its
    /// current meta page says (`.truncated`). `journal` names the journal in messages.
    static func check(_ file: String, journal: String) throws(JournalError) {
        // A writer in another process may be writing a meta page while it is read here: a torn
        // read looks damaged, so a failure counts only if a second read agrees.
        do {
            try checkOnce(file, journal: journal)
        } catch {
            try checkOnce(file, journal: journal)
        }
    }

    private static func checkOnce(_ file: String, journal: String) throws(JournalError) {
        let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == EACCES || e == EPERM { throw JournalError(.permissionDenied, "permission denied reading \(file)") }
            throw JournalError(.io, "cannot read \(file): \(String(cString: strerror(e)))")
        }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw JournalError(.io, "cannot stat \(file): \(String(cString: strerror(errno)))") }
        let fileSize = UInt64(st.st_size)

        let first = read(fd, at: 0)
        guard first.count >= 20, load(UInt32.self, first, 16) == magic else {
            // Not even page 0's magic: unless page 1 (at LMDB's usual 4 KiB) is a meta page, this is no LMDB file.
            if readMeta(read(fd, at: 4096), index: 1) != nil {
                throw damaged(journal, "meta page 0 is damaged (no LMDB magic number)")
            }
            throw JournalError(.notAJournal, "\(journal) does not hold a journal (data.mdb is not an LMDB file)")
        }
        guard first.count == metaSize else {
            throw truncated(journal, expected: UInt64(2 * getpagesize()), found: fileSize)
        }
        let meta0 = try validMeta(first, index: 0, journal: journal)
        let secondBytes = read(fd, at: off_t(meta0.pageSize))
        guard secondBytes.count == metaSize else {
            throw truncated(journal, expected: UInt64(2 * meta0.pageSize), found: fileSize)
        }
        let meta1 = try validMeta(secondBytes, index: 1, journal: journal)
        // LMDB uses the meta with the higher transaction id.
        let current = meta1.transaction > meta0.transaction ? meta1 : meta0
        try checkConsistency(current, journal: journal)
        guard let used = current.usedBytes else { throw damaged(journal, "meta page \(current.index) is damaged (last page \(current.lastPage))") }
        guard fileSize >= used else { throw truncated(journal, expected: used, found: fileSize) }
    }

    /// A meta page LMDB itself would accept (a meta page, LMDB's magic, data version 1).
    private static func validMeta(_ bytes: [UInt8], index: Int, journal: String) throws(JournalError) -> Meta {
        guard load(UInt16.self, bytes, 10) & metaFlag != 0, load(UInt32.self, bytes, 16) == magic else {
            throw damaged(journal, "meta page \(index) is damaged (no LMDB magic number)")
        }
        let version = load(UInt32.self, bytes, 20)
        guard version == dataVersion else {
            throw JournalError(
                .corrupted,
                "the journal at \(journal) is corrupted or was written by an incompatible LMDB: meta page \(index) has data version \(version), expected \(dataVersion)")
        }
        guard let meta = readMeta(bytes, index: index) else {
            throw damaged(journal, "meta page \(index) is damaged (page size \(load(UInt32.self, bytes, 40)))")
        }
        return meta
    }

    /// The fields of a meta page, or nil unless it has the magic number and a plausible page size.
    private static func readMeta(_ bytes: [UInt8], index: Int) -> Meta? {
        guard bytes.count == metaSize, load(UInt32.self, bytes, 16) == magic else { return nil }
        let pageSize = Int(load(UInt32.self, bytes, 40))
        guard pageSize >= 512, pageSize <= 65536, pageSize & (pageSize - 1) == 0 else { return nil }
        return Meta(
            index: index, pageSize: pageSize, mapSize: load(UInt64.self, bytes, 32),
            lastPage: load(UInt64.self, bytes, 136), transaction: load(UInt64.self, bytes, 144),
            roots: [load(UInt64.self, bytes, 80), load(UInt64.self, bytes, 128)],
            depths: [load(UInt16.self, bytes, 46), load(UInt16.self, bytes, 94)])
    }

    /// What must hold in the meta LMDB will use: its pages fit the map it was written with, and
    /// its trees' roots are pages it uses.
    private static func checkConsistency(_ m: Meta, journal: String) throws(JournalError) {
        func bad(_ what: String) -> JournalError { damaged(journal, "meta page \(m.index) (transaction \(m.transaction)) is damaged (\(what))") }
        guard m.lastPage >= 1, let used = m.usedBytes, used <= m.mapSize else { throw bad("last page \(m.lastPage)") }
        for (root, depth) in zip(m.roots, m.depths) {
            guard root == invalidPage || (2...m.lastPage).contains(root) else { throw bad("root page \(root)") }
            guard depth <= maxDepth else { throw bad("tree depth \(depth)") }
        }
    }

    private static func damaged(_ journal: String, _ what: String) -> JournalError {
        JournalError(.corrupted, "the journal at \(journal) is corrupted: \(what)")
    }

    private static func truncated(_ journal: String, expected: UInt64, found: UInt64) -> JournalError {
        JournalError(.truncated, "journal at \(journal) is truncated: expected at least \(expected) bytes, found \(found)")
    }

    /// Up to `metaSize` bytes at `offset` (fewer at the end of the file).
    private static func read(_ fd: Int32, at offset: off_t) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: metaSize)
        var done = 0
        while done < metaSize {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, metaSize - done, offset + off_t(done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        return Array(buffer.prefix(done))
    }

    private static func load<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
