import CLMDB
import Foundation
import Synchronization

/// The append-only, hash-chained event log over LMDB: the only source of truth.
///
/// One `Journal` per directory per process (LMDB forbids opening one environment twice in a process;
/// `open` refuses a second handle). Any number of processes may open the same journal read-only
/// while one appends.
///
/// Threads: every method may be called from any thread or task. Reads (`read`, `head`, `event` …)
/// are synchronous and short; they never wait for the writer. Writes (`append`, `putSnapshot`,
/// `reindex`, `importEvents`) are executed by one dedicated writer thread and return when their
/// transaction has committed — durably, unless the journal was opened with `.noSync`.
///
/// Damage and disk space: a data file that is shorter than its meta pages say, or whose meta pages
/// are damaged, is refused before LMDB maps it; a record or index entry that LMDB returns outside
/// the data file, or that does not decode, is reported as `.corrupted` rather than read. A writable
/// open first verifies the hash chain from the last verified point (`.chainBroken`). A write that
/// fails for lack of disk space throws `.noSpace` and leaves the journal as it was; reads go on and
/// later writes succeed once space returns.
public final class Journal: @unchecked Sendable {
    /// The current format version; see `journal/FORMAT.md`.
    public static let formatVersion: UInt32 = 1

    /// The directory holding `data.mdb` and `lock.mdb`.
    public let path: String
    public let options: JournalOptions
    /// The cluster id recorded when the journal was created.
    public let clusterID: String
    /// The format version the journal on disk was written with.
    public let diskFormatVersion: UInt32

    /// The LMDB environment: read and replaced (see `reopen`) only under `gate`.
    private(set) var env: OpaquePointer
    /// Counts re-openings of `env`, so that two threads that saw it fail re-open it once.
    private var generation = 0
    /// Set when re-opening failed: there is no environment left to use or close.
    private var lost = false
    let dbs: Databases
    let gate = MapGate()
    private let directoryID: DirectoryID
    private var writer: JournalWriter?
    private let state = Mutex<(closed: Bool, mapSize: Int, reservedBytes: Int)>((false, 0, 0))
    private let outOfSpace = Atomic<Bool>(false)
    private let commitObservers = Mutex<[@Sendable (Int) -> Void]>([])

    /// Calls `observer` after every committed append transaction with the number of events it
    /// held (a group commit's batch size), on the writer's thread: keep it short.
    public func observeCommits(_ observer: @escaping @Sendable (Int) -> Void) {
        commitObservers.withLock { $0.append(observer) }
    }

    func committed(events: Int) {
        for observer in commitObservers.withLock({ $0 }) { observer(events) }
    }

    // MARK: opening and closing

    /// Opens the journal in `path`, creating it (and the directory) unless `options.readOnly`.
    ///
    /// A directory that exists and holds anything other than a journal is refused with
    /// `.notAJournal`; a journal of a newer format with `.formatTooNew`; a damaged data file with
    /// `.truncated` or `.corrupted`. A writable open verifies the hash chain from the last verified
    /// point (`meta` key `verified_through`; from revision 1 the first time) and refuses a broken one
    /// with `.chainBroken`, unless `options.brokenChain` accepts it. Nothing is changed on disk when
    /// opening fails. Stale reader slots left by dead processes are cleared. A new journal's
    /// directory is created with mode 0700 and its files with 0600.
    public static func open(at path: String, options: JournalOptions = JournalOptions()) throws(JournalError) -> Journal {
        try open(at: path, options: options, checkingChain: true)
    }

    /// `open`, with the chain check of a writable open left out when `checkingChain` is false: only
    /// for recording the verified point right after a full verification.
    static func open(at path: String, options: JournalOptions, checkingChain: Bool) throws(JournalError) -> Journal {
        let path = (path as NSString).standardizingPath
        let fm = FileManager.default
        var isDir: ObjCBool = false
        var createdDirectory = false
        if !fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard !options.readOnly else { throw JournalError(.noJournal, "no journal at \(path)") }
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw JournalError(.permissionDenied, "cannot create the journal directory \(path): \((error as NSError).localizedDescription)", underlying: error)
            }
            createdDirectory = true
        } else if !isDir.boolValue {
            throw JournalError(.notAJournal, "\(path) is a file, not a journal directory")
        }
        let dataFile = path + "/data.mdb", lockFile = path + "/lock.mdb"
        let isNew = !fm.fileExists(atPath: dataFile)
        if isNew {
            let entries = (try? fm.contentsOfDirectory(atPath: path)) ?? []
            guard entries.isEmpty else {
                throw JournalError(.notAJournal, "\(path) is not a journal: the directory holds other files and no data.mdb")
            }
            guard !options.readOnly else { throw JournalError(.noJournal, "no journal at \(path) (the directory is empty)") }
        } else {
            try DataFile.check(dataFile, journal: path)
        }
        let lockExisted = fm.fileExists(atPath: lockFile)
        func undo() {
            if isNew { try? fm.removeItem(atPath: dataFile) }
            if !lockExisted { try? fm.removeItem(atPath: lockFile) }
            if createdDirectory { try? fm.removeItem(atPath: path) }
        }
        let dirID = try DirectoryID(path: path)
        try DirectoryID.register(dirID, path: path)
        let journal: Journal
        do {
            journal = try Journal(path: path, options: options, directoryID: dirID)
        } catch {
            DirectoryID.unregister(dirID)
            undo()
            throw error
        }
        if checkingChain && !options.readOnly && !isNew {
            do {
                try journal.verifyChainBeforeAppending()
            } catch {
                journal.close()
                throw error
            }
        }
        return journal
    }

    private init(path: String, options: JournalOptions, directoryID: DirectoryID) throws(JournalError) {
        self.path = path
        self.options = options
        self.directoryID = directoryID
        let env = try Self.openEnvironment(path: path, options: options, mapSize: max(options.initialMapSize, 1 << 16))
        gate.mapped(env)
        do {
            try Self.checkPages(env: env, gate: gate, path: path)
            (self.dbs, self.clusterID, self.diskFormatVersion) = try Self.openDatabases(env: env, gate: gate, path: path, options: options)
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.env = env
        state.withLock { $0.mapSize = currentMapSize() }
        if !options.readOnly {
            writer = JournalWriter(journal: self)
            if writesThroughMap {
                // Without room for the map the journal opens all the same: reads work, writes are refused until there is.
                do { try reserveMap() } catch { if error.code == .noSpace { outOfSpace.store(true, ordering: .relaxed) } }
            }
        }
    }

    /// Creates and opens an LMDB environment on `path` (files created 0600), clearing stale reader slots.
    private static func openEnvironment(path: String, options: JournalOptions, mapSize: Int) throws(JournalError) -> OpaquePointer {
        var envp: OpaquePointer?
        var rc = mdb_env_create(&envp)
        guard rc == 0, let env = envp else { throw lmdbError(rc, path: path, doing: "creating") }
        var flags = UInt32(MDB_NOTLS)
        if options.readOnly { flags |= UInt32(MDB_RDONLY) }
        if options.durability == .noSync, !options.readOnly { flags |= UInt32(MDB_NOSYNC) | UInt32(MDB_WRITEMAP) }
        mdb_env_set_maxdbs(env, 8)
        mdb_env_set_maxreaders(env, 512)
        mdb_env_set_mapsize(env, mapSize)
        rc = mdb_env_open(env, path, flags, 0o600)
        guard rc == 0 else {
            mdb_env_close(env)
            throw lmdbError(rc, path: path, doing: "opening")
        }
        var dead: Int32 = 0
        mdb_reader_check(env, &dead)
        return env
    }

    /// Walks every page of the journal before LMDB reads any (see `PageCheck`).
    private static func checkPages(env: OpaquePointer, gate: MapGate, path: String) throws(JournalError) {
        var txnp: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txnp)
        if rc == MDB_MAP_RESIZED {
            // A writer in another process grew the map since this one was opened: adopt its size.
            mdb_env_set_mapsize(env, 0)
            gate.mapped(env)
            rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txnp)
        }
        guard rc == 0, let txn = txnp else { throw lmdbError(rc, path: path, doing: "opening") }
        defer { mdb_txn_abort(txn) }
        let none = Databases(events: 0, byObject: 0, byTime: 0, byCause: 0, snapshots: 0, meta: 0)
        try JournalView(txn: txn, dbs: none, path: path, gate: gate).checkPages()
    }

    /// Closes and re-opens the environment after LMDB declared it unusable (`MDB_PANIC`, which it
    /// does when writing a meta page failed), unless another thread did since `seen` was read.
    /// Committed data is untouched: the failed transaction never became visible.
    func reopen(seen: Int) throws(JournalError) {
        try gate.exclusive { () throws(JournalError) in
            guard seen == generation else { return }
            mdb_env_close(env)
            do throws(JournalError) {
                let fresh = try Self.openEnvironment(path: path, options: options, mapSize: state.withLock { $0.mapSize })
                do throws(JournalError) {
                    gate.mapped(fresh)
                    let (reopened, _, _) = try Self.openDatabases(env: fresh, gate: gate, path: path, options: options)
                    guard reopened == dbs else {
                        throw JournalError(.io, "re-opening the journal at \(path) failed: its databases changed")
                    }
                } catch {
                    mdb_env_close(fresh)
                    throw error
                }
                env = fresh
                generation += 1
                state.withLock { $0.mapSize = currentMapSize() }
            } catch {
                lost = true
                throw error
            }
        }
    }

    /// Throws unless the environment may be used; for a caller that holds `gate`.
    func checkUsable() throws(JournalError) {
        guard !state.withLock({ $0.closed }) else { throw JournalError(.closed, "the journal at \(path) is closed") }
        guard !lost else { throw JournalError(.io, "the journal at \(path) could not be re-opened after a failed write; restart to use it") }
    }

    /// The environment and its generation, for a caller that holds `gate`.
    var environment: (env: OpaquePointer, generation: Int) { (env, generation) }

    /// Stops the writer (after the writes already submitted) and closes the environment.
    /// Later calls fail with `.closed`. Calling `close` twice is harmless.
    public func close() {
        let wasClosed = state.withLock { s in
            defer { s.closed = true }
            return s.closed
        }
        guard !wasClosed else { return }
        writer?.stop()
        gate.exclusive { if !lost { mdb_env_close(env) } }
        DirectoryID.unregister(directoryID)
    }

    deinit { close() }

    private static func openDatabases(env: OpaquePointer, gate: MapGate, path: String, options: JournalOptions) throws(JournalError) -> (Databases, String, UInt32) {
        var txnp: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, options.readOnly ? UInt32(MDB_RDONLY) : 0, &txnp)
        guard rc == 0, let txn = txnp else { throw lmdbError(rc, path: path, doing: "opening") }
        var committed = false
        defer { if !committed { mdb_txn_abort(txn) } }

        // An LMDB environment with no named databases at all is one we created and never initialised.
        var mainStat = MDB_stat()
        mdb_stat(txn, 1, &mainStat)  // dbi 1 is LMDB's main database
        let fresh = mainStat.ms_entries == 0
        if fresh && options.readOnly { throw JournalError(.noJournal, "no journal at \(path) (it is empty)") }

        func dbi(_ name: String, _ flags: Int32 = 0) throws(JournalError) -> MDB_dbi {
            var d: MDB_dbi = 0
            let rc = mdb_dbi_open(txn, name, UInt32(flags | (fresh ? MDB_CREATE : 0)), &d)
            if rc == MDB_NOTFOUND {
                throw JournalError(.notAJournal, "\(path) holds an LMDB database that is not a KubeJournal journal (no '\(name)' database)")
            }
            if rc == MDB_INCOMPATIBLE {
                throw JournalError(.notAJournal, "\(path) holds an LMDB database that is not a KubeJournal journal")
            }
            guard rc == 0 else { throw lmdbError(rc, path: path, doing: "opening") }
            return d
        }
        let meta = try dbi("meta")
        let events = try dbi("events")
        // by_cause came after the first journals: a writer adds it (filled from the events).
        var byCause: MDB_dbi = 0
        rc = mdb_dbi_open(txn, "by_cause", UInt32(MDB_DUPSORT | MDB_DUPFIXED), &byCause)
        if rc == MDB_NOTFOUND {
            if options.readOnly {
                byCause = Databases.absent
            } else {
                rc = mdb_dbi_open(txn, "by_cause", UInt32(MDB_DUPSORT | MDB_DUPFIXED | MDB_CREATE), &byCause)
                guard rc == 0 else { throw lmdbError(rc, path: path, doing: "opening") }
                do {
                    try JournalView(
                        txn: txn, dbs: Databases(events: events, byObject: 0, byTime: 0, byCause: byCause, snapshots: 0, meta: meta),
                        path: path, gate: gate, writing: true)
                        .forEach(in: 1...UInt64.max) { e in
                            for c in e.causeLinks { try CauseIndex.put(c, e.revision, txn: txn, dbi: byCause, path: path) }
                            return true
                        }
                } catch let e as JournalError { throw e } catch { throw JournalError(.io, "indexing \(path) failed", underlying: error) }
            }
        } else if rc != 0 {
            throw lmdbError(rc, path: path, doing: "opening")
        }
        let dbs = Databases(
            events: events, byObject: try dbi("by_object", MDB_DUPSORT | MDB_DUPFIXED), byTime: try dbi("by_time"),
            byCause: byCause, snapshots: try dbi("snapshots"), meta: meta)
        let view = JournalView(txn: txn, dbs: dbs, path: path, gate: gate, writing: !options.readOnly)
        let clusterID: String
        var version = formatVersion
        if fresh {
            clusterID = options.clusterID ?? UUID().uuidString.lowercased()
            func put(_ key: [UInt8], _ value: [UInt8]) throws(JournalError) {
                let rc = withVal(key) { k in withVal(value) { v in mdb_put(txn, meta, &k, &v, 0) } }
                guard rc == 0 else { throw lmdbError(rc, path: path, doing: "initialising") }
            }
            try put(Keys.formatVersion, withUnsafeBytes(of: formatVersion.bigEndian) { Array($0) })
            try put(Keys.clusterID, Array(clusterID.utf8))
            rc = mdb_txn_commit(txn)
            committed = true
            guard rc == 0 else { throw lmdbError(rc, path: path, doing: "initialising") }
        } else {
            do {
                guard let raw = try view.metaValue(Keys.formatVersion), raw.count == 4 else {
                    throw JournalError(.notAJournal, "\(path) holds an LMDB database that is not a KubeJournal journal (no format version)")
                }
                version = raw.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) }
                clusterID = String(decoding: try view.metaValue(Keys.clusterID) ?? [], as: UTF8.self)
            } catch let e as JournalError {
                throw e
            } catch {
                throw JournalError(.io, "reading the metadata of \(path) failed", underlying: error)
            }
            guard version <= formatVersion else {
                throw JournalError(
                    .formatTooNew,
                    "the journal at \(path) has format version \(version); this kj reads versions up to \(formatVersion): upgrade kj")
            }
            // Committing (even a read-only transaction) keeps the database handles open.
            rc = mdb_txn_commit(txn)
            committed = true
            guard rc == 0 else { throw lmdbError(rc, path: path, doing: "opening") }
        }
        return (dbs, clusterID, version)
    }

    // MARK: reading

    /// Runs `body` with a consistent read-only view of the journal (one read transaction).
    /// See `JournalView` for what may be done with it.
    public func read<T>(_ body: (JournalView) throws -> T) throws -> T {
        while true {
            var failed = (rc: Int32(0), generation: 0)
            let outcome: Result<T, any Error>? = try gate.shared {
                try checkUsable()
                var txnp: OpaquePointer?
                let rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txnp)
                if rc == MDB_MAP_RESIZED || rc == MDB_PANIC {
                    failed = (rc, generation)
                    return nil
                }
                guard rc == 0, let txn = txnp else { throw lmdbError(rc, path: path, doing: "reading") }
                defer { mdb_txn_abort(txn) }
                return Result { try body(JournalView(txn: txn, dbs: dbs, path: path, gate: gate)) }
            }
            if let outcome { return try outcome.get() }
            if failed.rc == MDB_PANIC {
                try reopen(seen: failed.generation)
            } else {
                adoptMapSize()
            }
        }
    }

    /// After another process grew the map: adopt its size.
    func adoptMapSize() {
        gate.exclusive {
            guard !lost else { return }
            _ = mdb_env_set_mapsize(env, 0)
            gate.mapped(env)
            state.withLock { $0.mapSize = currentMapSize() }
        }
    }

    /// The newest event's revision, hash and time.
    public func head() throws -> Head { try read { try $0.head() } }

    /// The event at `revision`, or nil.
    public func event(at revision: UInt64) throws -> Event? { try read { try $0.event(at: revision) } }

    // MARK: writing

    /// Appends `drafts` as consecutive revisions and returns them as committed.
    ///
    /// Returns after the transaction committed (durably with `.sync`). Drafts are checked first
    /// (non-empty type, actor and object; object key without NUL and at most 511 bytes; `data` a
    /// JSON text); if any is invalid nothing is appended and `.invalidEvent` is thrown. Appends from
    /// concurrent callers are committed together in one transaction (group commit), each caller's
    /// batch contiguous. A time earlier than the head's time is raised to it.
    ///
    /// The append is queued before the caller's first suspension, on the caller's executor: calls
    /// made one after another from one actor get revisions in that order.
    nonisolated(nonsending) public func append(_ drafts: [EventDraft]) async throws -> [Event] {
        guard !drafts.isEmpty else { return [] }
        for draft in drafts { try Self.check(draft) }
        let writer = try activeWriter()
        return try await withCheckedThrowingContinuation { cont in
            writer.submit(.append(drafts, cont))
        }
    }

    /// Like `append`, but on the calling thread, which blocks until the transaction committed.
    /// For single-threaded drivers (simulations) whose appends come one after another, where group
    /// commit cannot help and handing each append to the writer thread would cost more than the
    /// append. Never call it from a task that other appenders might be waiting on.
    public func appendSynchronously(_ drafts: [EventDraft]) throws -> [Event] {
        guard !drafts.isEmpty else { return [] }
        for draft in drafts { try Self.check(draft) }
        return try activeWriter().appendNow(drafts)
    }

    /// Appends events that already carry revisions, times and hashes (an import). The first must
    /// follow the head, and each hash must be the chain hash of its event; otherwise
    /// `.chainMismatch` is thrown and nothing is appended.
    public func importEvents(_ events: [Event]) async throws {
        guard !events.isEmpty else { return }
        for e in events { try Self.check(e.draft) }
        let writer = try activeWriter()
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
            writer.submit(.importEvents(events, cont))
        }
    }

    /// Stores opaque `bytes` (for example an encoded projection) as the snapshot at `revision`,
    /// which must not be beyond the head. Replaces an earlier snapshot at the same revision.
    nonisolated(nonsending) public func putSnapshot(_ bytes: [UInt8], at revision: UInt64) async throws {
        let writer = try activeWriter()
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
            writer.submit(.snapshot(revision, bytes, cont))
        }
    }

    /// Rebuilds the `by_object`, `by_time` and `by_cause` indexes from the events alone.
    public func reindex() async throws {
        let writer = try activeWriter()
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
            writer.submit(.reindex(cont))
        }
    }

    func activeWriter() throws(JournalError) -> JournalWriter {
        guard let writer else { throw JournalError(.readOnly, "the journal at \(path) is open read-only") }
        guard !state.withLock({ $0.closed }) else { throw JournalError(.closed, "the journal at \(path) is closed") }
        return writer
    }

    /// Throws `.invalidEvent` unless `d` may be appended (the checks `append` makes first).
    public static func check(_ d: EventDraft) throws(JournalError) {
        func bad(_ why: String) -> JournalError { JournalError(.invalidEvent, "invalid event: \(why)") }
        guard !d.type.isEmpty, d.type.utf8.count <= 255 else { throw bad("type must be 1 to 255 bytes") }
        guard !d.actor.kind.isEmpty, !d.actor.name.isEmpty else { throw bad("actor kind and name are required") }
        guard !d.object.kind.isEmpty, !d.object.name.isEmpty else { throw bad("object kind and name are required") }
        guard Timestamp.printable.contains(d.time.microseconds) else {
            throw bad("time must be within the years 0000 to 9999 (UTC), as RFC 3339 writes it")
        }
        let o = d.object
        guard !o.kind.utf8.contains(0), !o.namespace.utf8.contains(0), !o.name.utf8.contains(0) else {
            throw bad("object kind, namespace and name may not contain NUL")
        }
        guard o.kind.utf8.count + o.namespace.utf8.count + o.name.utf8.count + 2 <= Keys.longestObjectKey else {
            throw bad("object key \(o.key) is longer than \(Keys.longestObjectKey) bytes")
        }
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 }
        guard let first = d.data.first, let last = d.data.last, !isSpace(first), !isSpace(last) else {
            throw bad("data of a \(d.type) event about \(o.key) must be a JSON text without surrounding white space")
        }
        do {
            try d.data.withUnsafeBytes { try JSONSyntax.validate($0) }
        } catch {
            throw bad("data of a \(d.type) event about \(o.key) is not JSON: \(error)")
        }
    }

    // MARK: map size

    /// The map size in bytes this process currently uses.
    public var mapSize: Int { state.withLock { $0.mapSize } }

    private func currentMapSize() -> Int {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return info.me_mapsize
    }

    /// Doubles the map (up to `maxMapSize`). Called by the writer with no transaction open.
    func growMap() throws(JournalError) {
        try gate.exclusive { () throws(JournalError) in
            let current = currentMapSize()
            guard current < options.maxMapSize else {
                throw JournalError(
                    .journalFull,
                    "journal at \(path) is full (map size \(formatBytes(options.maxMapSize)) reached); raise --max-size")
            }
            let next = min(current * 2, options.maxMapSize)
            if writesThroughMap { try reserve(next) }
            let rc = mdb_env_set_mapsize(env, next)
            guard rc == 0 else { throw lmdbError(rc, path: path, doing: "growing") }
            gate.mapped(env)
            state.withLock { $0.mapSize = next }
        }
    }

    // MARK: disk space

    /// Whether the journal is refusing writes for lack of disk space: the last write failed with
    /// `.noSpace`, and none has succeeded since. Reads are unaffected. For a server's metrics.
    public var isOutOfSpace: Bool { outOfSpace.load(ordering: .relaxed) }

    /// Called by the writer after each write transaction with what became of it.
    func wrote(_ error: (any Error)?) {
        if let e = error as? JournalError {
            if e.code == .noSpace { outOfSpace.store(true, ordering: .relaxed) }
        } else if error == nil {
            outOfSpace.store(false, ordering: .relaxed)
        }
    }

    /// With `.noSync` LMDB writes pages through the map, into a sparse file: a page written where
    /// the disk has no room left raises SIGBUS instead of an error. So the whole map is allocated on
    /// disk before it is used (at open and as it grows), and a write is refused while it cannot be.
    var writesThroughMap: Bool { options.durability == .noSync && !options.readOnly }

    /// Makes sure the whole map is allocated on disk before a write through the map. Throws `.noSpace`.
    func reserveMap() throws(JournalError) {
        guard writesThroughMap, state.withLock({ $0.reservedBytes < $0.mapSize }) else { return }
        try gate.shared { () throws(JournalError) in try reserve(currentMapSize()) }
    }

    /// Allocates the data file's first `bytes` on disk (without changing what it holds).
    private func reserve(_ bytes: Int) throws(JournalError) {
        var fd: mdb_filehandle_t = -1
        mdb_env_get_fd(env, &fd)
        let rc = posix_fallocate(fd, 0, off_t(bytes))
        guard rc == 0 || rc == EOPNOTSUPP || rc == EINVAL else {
            if rc == ENOSPC || rc == EDQUOT {
                throw JournalError(
                    .noSpace,
                    "no space left on the device for the journal at \(path): it needs \(formatBytes(bytes)) for its map; writes resume once there is room")
            }
            throw JournalError(.io, "reserving space for the journal at \(path) failed: \(String(cString: strerror(rc)))")
        }
        state.withLock { $0.reservedBytes = max($0.reservedBytes, bytes) }
    }

    /// Translates a failed commit: LMDB reports a write cut short by a full disk as EIO.
    func commitError(_ rc: Int32) -> JournalError {
        if rc == EIO, diskIsFull() {
            return lmdbError(ENOSPC, path: path, doing: "committing to")
        }
        return lmdbError(rc, path: path, doing: "committing to")
    }

    /// Whether the journal's file system has (almost) no room left.
    private func diskIsFull() -> Bool {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return false }
        return UInt64(fs.f_bavail) * UInt64(fs.f_frsize) < 1 << 20
    }
}

/// `1 GiB`, `512 MiB` …
public func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n)
    var i = 0
    while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
    return v == v.rounded() ? "\(Int(v)) \(units[i])" : String(format: "%.1f %@", v, units[i])
}

/// A directory's device and inode: the process-wide registry of open journals uses it.
struct DirectoryID: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64

    init(path: String) throws(JournalError) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw JournalError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))") }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }

    private static let open = Mutex<Set<DirectoryID>>([])

    static func register(_ id: DirectoryID, path: String) throws(JournalError) {
        let inserted = open.withLock { $0.insert(id).inserted }
        guard inserted else {
            throw JournalError(.alreadyOpen, "the journal at \(path) is already open in this process; share that handle")
        }
    }

    static func unregister(_ id: DirectoryID) {
        _ = open.withLock { $0.remove(id) }
    }
}

extension Journal {
    /// The bytes `draft` takes in the `events` database (canonical encoding plus hash).
    public static func recordSize(of draft: EventDraft) -> Int {
        EventCodec.encodedSize(draft) + EventCodec.hashSize
    }
}

extension Journal {
    /// Flushes everything committed so far to disk; needed only with `.noSync`.
    /// Fails with `.closed` after `close()`.
    public func sync() throws {
        let rc = try gate.shared { () throws(JournalError) -> Int32 in
            try checkUsable()  // under the gate: `close` takes it exclusively to close the environment
            return mdb_env_sync(env, 1)
        }
        guard rc == 0 else { throw lmdbError(rc, path: path, doing: "syncing") }
    }
}
