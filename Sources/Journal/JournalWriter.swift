import CLMDB
import Foundation

/// The journal's single writer: one dedicated thread that owns every write transaction.
///
/// Callers submit jobs and suspend on a continuation; the thread takes everything queued, runs the
/// consecutive appends of it in one transaction (group commit), commits, then resumes the callers.
/// No transaction ever crosses an `await` or a thread.
final class JournalWriter: @unchecked Sendable {
    enum Job {
        case append([EventDraft], CheckedContinuation<[Event], any Error>)
        case importEvents([Event], CheckedContinuation<Void, any Error>)
        case snapshot(UInt64, [UInt8], CheckedContinuation<Void, any Error>)
        case reindex(CheckedContinuation<Void, any Error>)

        func fail(_ error: any Error) {
            switch self {
            case .append(_, let c): c.resume(throwing: error)
            case .importEvents(_, let c), .snapshot(_, _, let c), .reindex(let c): c.resume(throwing: error)
            }
        }
    }

    private unowned let journal: Journal
    private let condition = NSCondition()
    /// Held for every write transaction, by the writer thread or a synchronous appender.
    private let transactionLock = NSLock()
    private var queue: [Job] = []
    private var stopping = false
    private var finished = false
    /// Scratch space for one record: previous hash ‖ canonical bytes ‖ hash. Reused for every
    /// event, so appending allocates nothing per event on this thread.
    private var scratch = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 8)
    private var scratchSize = 4096
    /// This transaction's `by_object` entries, inserted sorted at its end: sorted inserts touch
    /// each B-tree page once, which halves the cost of indexing many objects in one transaction.
    private var objectEntries = ObjectIndexBatch()

    init(journal: Journal) {
        self.journal = journal
        let thread = Thread { [self] in run() }
        thread.name = "kj-journal-writer"
        thread.start()
    }

    func submit(_ job: Job) {
        condition.lock()
        if stopping {
            condition.unlock()
            job.fail(JournalError(.closed, "the journal at \(journal.path) is closed"))
            return
        }
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    deinit { scratch.deallocate() }

    /// Finishes the queued jobs, then ends the thread; returns when it has ended.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let jobs = queue
            queue.removeAll(keepingCapacity: true)
            condition.unlock()
            process(jobs)
        }
    }

    private func process(_ jobs: [Job]) {
        transactionLock.lock()
        defer { transactionLock.unlock() }
        var appends: [([EventDraft], CheckedContinuation<[Event], any Error>)] = []
        func flushAppends() {
            guard !appends.isEmpty else { return }
            commitAppends(appends)
            appends.removeAll()
        }
        for job in jobs {
            switch job {
            case .append(let drafts, let cont):
                appends.append((drafts, cont))
            case .importEvents(let events, let cont):
                flushAppends()
                cont.resume(with: Result { try transaction { txn in try importEvents(events, txn) } })
            case .snapshot(let rev, let bytes, let cont):
                flushAppends()
                cont.resume(with: Result { try transaction { txn in try putSnapshot(rev, bytes, txn) } })
            case .reindex(let cont):
                flushAppends()
                cont.resume(with: Result { try transaction { txn in try reindex(txn) } })
            }
        }
        flushAppends()
    }

    /// One transaction for many callers' appends; each caller's events are contiguous.
    private func commitAppends(_ requests: [([EventDraft], CheckedContinuation<[Event], any Error>)]) {
        do {
            let results = try appendTransaction(requests.map(\.0))
            for (request, events) in zip(requests, results) { request.1.resume(returning: events) }
        } catch {
            for request in requests { request.1.resume(throwing: error) }
        }
    }

    /// Appends on the calling thread (see `Journal.appendSynchronously`).
    func appendNow(_ drafts: [EventDraft]) throws -> [Event] {
        transactionLock.lock()
        defer { transactionLock.unlock() }
        return try appendTransaction([drafts])[0]
    }

    /// In one transaction, appends `drafts` (a record of accepted chain breaks, if any) and moves
    /// the verified point to `verified`, or past the appended events when they directly follow it.
    /// Without drafts the verified point never moves back. Runs on the calling thread.
    func recordVerification(_ verified: Head, appending drafts: [EventDraft]) throws -> [Event] {
        transactionLock.lock()
        defer { transactionLock.unlock() }
        let events = try transaction { txn -> [Event] in
            let view = view(txn)
            var head = try view.head()
            let follows = head.revision == verified.revision
            var events: [Event] = []
            if !drafts.isEmpty {
                let cursors = try AppendCursors(txn, journal.dbs, path: journal.path)
                defer { cursors.close() }
                events = try drafts.map { draft in try appendOne(draft, after: &head, cursors) }
                try objectEntries.insertSorted(with: cursors)
            }
            let point = follows ? head : verified
            let recorded = try view.metaValue(Keys.verifiedThrough).flatMap(Keys.decodePoint)
            // An acceptance may move the point back: to the head of a journal that lost its end.
            if point.revision > recorded?.revision ?? 0 || !drafts.isEmpty {
                try put(journal.dbs.meta, Keys.verifiedThrough, Keys.point(point), 0, txn)
            }
            return events
        }
        if !events.isEmpty { journal.committed(events: events.count) }
        return events
    }

    private func appendTransaction(_ batches: [[EventDraft]]) throws -> [[Event]] {
        let events = try appendInTransaction(batches)
        journal.committed(events: events.reduce(0) { $0 + $1.count })
        return events
    }

    private func appendInTransaction(_ batches: [[EventDraft]]) throws -> [[Event]] {
        try transaction { txn -> [[Event]] in
            var head = try view(txn).head()
            let cursors = try AppendCursors(txn, journal.dbs, path: journal.path)
            defer { cursors.close() }
            let events = try batches.map { drafts in
                try drafts.map { draft in try appendOne(draft, after: &head, cursors) }
            }
            try objectEntries.insertSorted(with: cursors)
            return events
        }
    }

    /// Encodes, hashes and stores one event with its index entries.
    private func appendOne(_ draft: EventDraft, after head: inout Head, _ cursors: AppendCursors) throws -> Event {
        var draft = draft
        if draft.time < head.time { draft.time = head.time }
        let rev = head.revision + 1
        let size = EventCodec.encodedSize(draft)
        if size + 64 > scratchSize {
            scratch.deallocate()
            scratchSize = max(size + 64, scratchSize * 2)
            scratch = .allocate(byteCount: scratchSize, alignment: 8)
        }
        head.hash.store(to: scratch)
        EventCodec.encode(revision: rev, draft: draft, to: scratch + 32)
        let hash = ChainHash.digest(of: UnsafeRawBufferPointer(start: scratch, count: 32 + size))
        hash.store(to: scratch + 32 + size)
        var revisionKey = rev.bigEndian
        // The by_time key (see Keys.time), built on the stack.
        var timeKey = ((UInt64(bitPattern: draft.time.microseconds) ^ (1 << 63)).bigEndian, rev.bigEndian)
        try withUnsafeMutableBytes(of: &revisionKey) { revBytes in
            var k = MDB_val(mv_size: 8, mv_data: revBytes.baseAddress)
            var v = MDB_val(mv_size: size + 32, mv_data: scratch + 32)
            try cursors.put(cursors.events, &k, &v, MDB_APPEND)
        }
        objectEntries.add(draft.object, rev)
        for cause in draft.causeLinks {
            var k = cause.bigEndian
            try withUnsafeMutableBytes(of: &k) { kb in
                try withUnsafeMutableBytes(of: &revisionKey) { rb in
                    var key = MDB_val(mv_size: 8, mv_data: kb.baseAddress), value = MDB_val(mv_size: 8, mv_data: rb.baseAddress)
                    try cursors.put(cursors.byCause, &key, &value, 0)
                }
            }
        }
        try withUnsafeMutableBytes(of: &timeKey) { kb in
            var k = MDB_val(mv_size: 16, mv_data: kb.baseAddress)
            var v = MDB_val(mv_size: 0, mv_data: nil)
            try cursors.put(cursors.byTime, &k, &v, MDB_APPEND)
        }
        head = Head(revision: rev, hash: hash, time: draft.time)
        return Event(revision: rev, draft: draft, hash: hash)
    }

    private func importEvents(_ events: [Event], _ txn: OpaquePointer) throws {
        var head = try view(txn).head()
        let cursors = try AppendCursors(txn, journal.dbs, path: journal.path)
        defer { cursors.close() }
        for e in events {
            guard e.revision == head.revision + 1 else {
                throw JournalError(.chainMismatch, "imported event has revision \(e.revision), expected \(head.revision + 1)", revision: e.revision)
            }
            guard e.time >= head.time else {
                throw JournalError(.chainMismatch, "imported event \(e.revision) is older than revision \(head.revision)", revision: e.revision)
            }
            let expected = e.hash
            let stored = try appendOne(e.draft, after: &head, cursors)
            guard stored.hash == expected else {
                throw JournalError(
                    .chainMismatch,
                    "imported event \(e.revision) has hash \(expected.short)…, but the chain gives \(stored.hash.short)…",
                    revision: e.revision)
            }
        }
        try objectEntries.insertSorted(with: cursors)
    }

    private func putSnapshot(_ rev: UInt64, _ bytes: [UInt8], _ txn: OpaquePointer) throws {
        let head = try view(txn).head()
        guard rev <= head.revision else {
            throw JournalError(.invalidEvent, "cannot store a snapshot at revision \(rev), beyond the head \(head.revision)")
        }
        try put(journal.dbs.snapshots, Keys.revision(rev), bytes, 0, txn)
    }

    private func reindex(_ txn: OpaquePointer) throws {
        let dbs = journal.dbs
        for dbi in [dbs.byObject, dbs.byTime, dbs.byCause] {
            let rc = mdb_drop(txn, dbi, 0)
            guard rc == 0 else { throw lmdbError(rc, path: journal.path, doing: "reindexing") }
        }
        try view(txn).forEach(in: 1...UInt64.max) { e in
            try put(dbs.byObject, Keys.object(e.object.key), Keys.revision(e.revision), 0, txn)
            try put(dbs.byTime, Keys.time(e.time, e.revision), [], 0, txn)
            for cause in e.causeLinks { try put(dbs.byCause, Keys.revision(cause), Keys.revision(e.revision), 0, txn) }
            return true
        }
    }

    private func put(_ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8], _ flags: Int32, _ txn: OpaquePointer) throws {
        let rc = withVal(key) { k in withVal(value) { v in mdb_put(txn, dbi, &k, &v, UInt32(flags)) } }
        guard rc == 0 else { throw MapFull.or(rc, journal.path, "writing") }
    }

    /// Runs `body` in a write transaction and commits it, also recording the head in `meta`.
    /// When the map fills up, the transaction is abandoned, the map grown and `body` run again.
    /// The transaction holds the map gate shared, so the map is not changed under it.
    private func transaction<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        do {
            let result = try attempts(body)
            journal.wrote(nil)
            return result
        } catch {
            journal.wrote(error)
            throw error
        }
    }

    private enum Attempt<T> {
        case done(T)
        case mapFull, mapResized
        case panicked(generation: Int)
    }

    private func attempts<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        while true {
            try journal.reserveMap()
            // What a failed attempt collected for `by_object` names revisions it did not commit.
            objectEntries.removeAll()
            let attempt: Attempt<T> = try journal.gate.shared {
                try journal.checkUsable()
                let (env, generation) = journal.environment
                var txnp: OpaquePointer?
                var rc = mdb_txn_begin(env, nil, 0, &txnp)
                if rc == MDB_MAP_RESIZED { return .mapResized }
                if rc == MDB_PANIC { return .panicked(generation: generation) }
                guard rc == 0, let txn = txnp else { throw lmdbError(rc, path: journal.path, doing: "writing") }
                do {
                    let result = try body(txn)
                    try recordHead(txn)
                    rc = mdb_txn_commit(txn)
                    guard rc == 0 else { throw rc == MDB_MAP_FULL ? MapFull() : journal.commitError(rc) }
                    return .done(result)
                } catch is MapFull {
                    // After a failed put the transaction must be aborted; after a failed commit it is already freed.
                    if rc == 0 { mdb_txn_abort(txn) }
                    return .mapFull
                } catch {
                    if rc == 0 { mdb_txn_abort(txn) }
                    throw error
                }
            }
            switch attempt {
            case .done(let result): return result
            case .mapFull: try journal.growMap()
            case .mapResized: journal.adoptMapSize()
            case .panicked(let generation): try journal.reopen(seen: generation)
            }
        }
    }

    private func recordHead(_ txn: OpaquePointer) throws {
        try put(journal.dbs.meta, Keys.head, Keys.point(try view(txn).head()), 0, txn)
    }

    /// A view of the write transaction `txn`.
    private func view(_ txn: OpaquePointer) -> JournalView {
        JournalView(txn: txn, dbs: journal.dbs, path: journal.path, gate: journal.gate, writing: true)
    }
}

/// `by_object` entries collected during one transaction: keys in one arena, sorted before insertion.
private struct ObjectIndexBatch {
    private var arena: [UInt8] = []
    private var entries: [(start: Int, count: Int, revision: UInt64)] = []

    mutating func add(_ object: ObjectRef, _ revision: UInt64) {
        let start = arena.count
        arena.append(contentsOf: object.kind.utf8); arena.append(0)
        arena.append(contentsOf: object.namespace.utf8); arena.append(0)
        arena.append(contentsOf: object.name.utf8)
        entries.append((start, arena.count - start, revision))
    }

    mutating func removeAll() {
        arena.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }

    /// Inserts the entries in key order (then revision order) and empties the batch.
    mutating func insertSorted(with cursors: AppendCursors) throws {
        defer { removeAll() }
        try arena.withUnsafeMutableBytes { bytes in
            let base = bytes.baseAddress!
            entries.sort { a, b in
                let c = memcmp(base + a.start, base + b.start, min(a.count, b.count))
                if c != 0 { return c < 0 }
                return a.count != b.count ? a.count < b.count : a.revision < b.revision
            }
            for e in entries {
                var rev = e.revision.bigEndian
                try withUnsafeMutableBytes(of: &rev) { r in
                    var k = MDB_val(mv_size: e.count, mv_data: base + e.start)
                    var v = MDB_val(mv_size: 8, mv_data: r.baseAddress)
                    try cursors.put(cursors.byObject, &k, &v, 0)
                }
            }
        }
    }
}

/// The cursors of one append transaction (`mdb_cursor_put` keeps its position between puts,
/// which makes appending at the end cheap).
private struct AppendCursors {
    let events: OpaquePointer, byObject: OpaquePointer, byTime: OpaquePointer, byCause: OpaquePointer
    let path: String

    init(_ txn: OpaquePointer, _ dbs: Databases, path: String) throws {
        func open(_ dbi: MDB_dbi) throws -> OpaquePointer {
            var c: OpaquePointer?
            let rc = mdb_cursor_open(txn, dbi, &c)
            guard rc == 0, let c else { throw lmdbError(rc, path: path, doing: "writing") }
            return c
        }
        self.path = path
        events = try open(dbs.events)
        byObject = try open(dbs.byObject)
        byTime = try open(dbs.byTime)
        byCause = try open(dbs.byCause)
    }

    func put(_ cursor: OpaquePointer, _ key: inout MDB_val, _ value: inout MDB_val, _ flags: Int32) throws {
        let rc = mdb_cursor_put(cursor, &key, &value, UInt32(flags))
        guard rc == 0 else { throw MapFull.or(rc, path, "writing") }
    }

    func close() {
        mdb_cursor_close(events)
        mdb_cursor_close(byObject)
        mdb_cursor_close(byTime)
        mdb_cursor_close(byCause)
    }
}

/// Marks `MDB_MAP_FULL`, which the writer answers by growing the map.
private struct MapFull: Error {
    static func or(_ rc: Int32, _ path: String, _ what: String) -> any Error {
        rc == MDB_MAP_FULL ? MapFull() : lmdbError(rc, path: path, doing: what)
    }
}
