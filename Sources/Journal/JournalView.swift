import CLMDB

/// A consistent, read-only view of the journal at one moment (one LMDB read transaction).
///
/// Get one from `Journal.read(_:)`. It is valid only inside that closure and on that thread:
/// do not store it or use it after the closure returns. Every call here is synchronous and
/// never blocks on the writer; events appended after the view began are not visible in it.
///
/// What LMDB hands back is checked before it is read: a key or value outside the data file, or a
/// record that does not decode, throws `.corrupted` (with the revision, for a record).
public struct JournalView {
    let txn: OpaquePointer
    let dbs: Databases
    let path: String
    /// Where LMDB's answers may point (see `MapGate.holds`).
    let gate: MapGate
    /// A write transaction's view: its own changes live outside the map.
    var writing = false

    /// The newest event's revision, hash and time (`Head.empty` for an empty journal).
    public func head() throws -> Head {
        try withCursor(txn, dbs.events, path: path) { c in
            var k = MDB_val(), v = MDB_val()
            let rc = mdb_cursor_get(c, &k, &v, MDB_LAST)
            if rc == MDB_NOTFOUND { return .empty }
            try check(rc, "reading the head of")
            let rev = try revisionKey(k, "events")
            let record = try bytes(v, revision: rev)
            guard record.count > EventCodec.hashSize, let (_, time) = EventCodec.peekRevisionAndTime(record: record) else {
                throw corrupted(rev)
            }
            let hash = ChainHash(bytes: UnsafeRawBufferPointer(rebasing: record[(record.count - EventCodec.hashSize)...]))
            return Head(revision: rev, hash: hash, time: time)
        }
    }

    /// The event at `revision`, or nil if there is none.
    public func event(at revision: UInt64) throws -> Event? {
        guard let record = try record(at: revision) else { return nil }
        guard let e = EventCodec.decode(record: record), e.revision == revision else { throw corrupted(revision) }
        return e
    }

    /// Calls `body` with the header of the event at `revision`, whose `data` points into the
    /// journal and is valid only during that call (no copy of the payload); nil if there is none.
    public func withHeader<T>(at revision: UInt64, _ body: (EventHeader) throws -> T) throws -> T? {
        guard let record = try record(at: revision) else { return nil }
        guard let h = EventCodec.header(record: record), h.revision == revision else { throw corrupted(revision) }
        return try body(h)
    }

    /// The stored record of the event at `revision`, in place.
    private func record(at revision: UInt64) throws -> UnsafeRawBufferPointer? {
        var v = MDB_val()
        let rc = withVal(Keys.revision(revision)) { k in mdb_get(txn, dbs.events, &k, &v) }
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "reading")
        return try bytes(v, revision: revision)
    }

    /// Calls `body` with each event whose revision lies in `range`, in ascending order (or
    /// descending with `reverse`), until `body` returns false.
    public func forEach(in range: ClosedRange<UInt64>, reverse: Bool = false, _ body: (Event) throws -> Bool) throws {
        try forEachRecord(in: range, reverse: reverse) { rev, record in
            guard let e = EventCodec.decode(record: record), e.revision == rev else { throw corrupted(rev) }
            return try body(e)
        }
    }

    /// Like `forEach`, but without copying payloads: `body` gets each event's header, whose `data`
    /// points into the journal and is valid only during that call. For folds over many events.
    public func forEachHeader(in range: ClosedRange<UInt64>, _ body: (EventHeader) throws -> Bool) throws {
        try forEachRecord(in: range, reverse: false) { rev, record in
            guard let h = EventCodec.header(record: record), h.revision == rev else { throw corrupted(rev) }
            return try body(h)
        }
    }

    /// The events in `range`, ascending (or descending), at most `limit` of them.
    public func events(in range: ClosedRange<UInt64>, reverse: Bool = false, limit: Int = .max) throws -> [Event] {
        var out: [Event] = []
        guard limit > 0 else { return out }
        try forEach(in: range, reverse: reverse) { e in
            out.append(e)
            return out.count < limit
        }
        return out
    }

    /// Raw records in a revision range; the buffer is valid only during the call to `body`.
    func forEachRecord(
        in range: ClosedRange<UInt64>, reverse: Bool,
        _ body: (UInt64, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try withCursor(txn, dbs.events, path: path) { c in
            var k = MDB_val(), v = MDB_val()
            var rc: Int32
            if reverse {
                rc = withVal(Keys.revision(range.upperBound)) { start in
                    k = start
                    return mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)
                }
                if rc == MDB_NOTFOUND {
                    rc = mdb_cursor_get(c, &k, &v, MDB_LAST)
                } else if rc == 0, try revisionKey(k, "events") > range.upperBound {
                    rc = mdb_cursor_get(c, &k, &v, MDB_PREV)
                }
            } else {
                rc = withVal(Keys.revision(range.lowerBound)) { start in
                    k = start
                    return mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)
                }
            }
            while rc == 0 {
                let rev = try revisionKey(k, "events")
                guard range.contains(rev) else { return }
                guard try body(rev, try bytes(v, revision: rev)) else { return }
                rc = mdb_cursor_get(c, &k, &v, reverse ? MDB_PREV : MDB_NEXT)
            }
            if rc != MDB_NOTFOUND { try check(rc, "iterating") }
        }
    }

    /// Revisions of every event about the object `key` (all its incarnations), ascending.
    public func history(of key: ObjectKey) throws -> [UInt64] {
        try revisions(under: Keys.object(key), in: dbs.byObject)
    }

    /// Every object of `kind` in `namespace` the journal has events about, past or present, by name.
    public func objectKeys(kind: String, namespace: String) throws -> [ObjectKey] {
        let prefix = Keys.object(ObjectKey(kind: kind, namespace: namespace, name: ""))
        var keys: [ObjectKey] = []
        try withCursor(txn, dbs.byObject, path: path) { c in
            var k = MDB_val(), v = MDB_val()
            var rc = withVal(prefix) { p in
                k = p
                return mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)
            }
            while rc == 0 {
                let raw = try bytes(k, in: "by_object")
                guard raw.count >= prefix.count, raw.prefix(prefix.count).elementsEqual(prefix) else { break }
                keys.append(ObjectKey(kind: kind, namespace: namespace, name: String(decoding: raw.dropFirst(prefix.count), as: UTF8.self)))
                rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP)
            }
            if rc != 0, rc != MDB_NOTFOUND { try check(rc, "listing objects in") }
        }
        return keys
    }

    /// The revisions an index of fixed-size duplicates (`by_object`, `by_cause`) lists under `key`.
    func revisions(under key: [UInt8], in dbi: MDB_dbi) throws -> [UInt64] {
        var revisions: [UInt64] = []
        try withCursor(txn, dbi, path: path) { c in
            var k = MDB_val(), v = MDB_val()
            var rc = withVal(key) { p in
                k = p
                return mdb_cursor_get(c, &k, &v, MDB_SET)
            }
            if rc == MDB_NOTFOUND { return }
            // Revisions are fixed-size duplicates: read them a page at a time.
            rc = mdb_cursor_get(c, &k, &v, MDB_GET_MULTIPLE)
            while rc == 0 {
                let raw = try bytes(v, in: "an index")
                guard raw.count % 8 == 0 else { throw outside("an index") }
                for offset in stride(from: 0, to: raw.count, by: 8) {
                    revisions.append(UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                }
                rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_MULTIPLE)
            }
            if rc != MDB_NOTFOUND { try check(rc, "reading an index of") }
        }
        return revisions
    }

    /// The newest revision whose time is at or before `time`; nil if the journal begins later.
    public func revision(atOrBefore time: Timestamp) throws -> UInt64? {
        guard time.microseconds < .max else { return try head().revision }
        return try withCursor(txn, dbs.byTime, path: path) { c in
            var k = MDB_val(), v = MDB_val()
            var rc = withVal(Keys.time(time.adding(microseconds: 1), 0)) { start in
                k = start
                return mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)
            }
            rc = mdb_cursor_get(c, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV)
            if rc == MDB_NOTFOUND { return nil }
            try check(rc, "searching the time index of")
            guard let rev = Keys.trailingRevision(try bytes(k, in: "by_time")) else { throw outside("by_time") }
            return rev
        }
    }

    /// The newest snapshot stored at or before `revision`.
    public func snapshot(atOrBefore revision: UInt64) throws -> Snapshot? {
        try withSnapshot(atOrBefore: revision) { rev, bytes in Snapshot(revision: rev, bytes: [UInt8](bytes)) }
    }

    /// Calls `body` with the newest snapshot stored at or before `revision` — its revision and its
    /// bytes in the journal's memory, valid only during the call (a snapshot of many objects is
    /// tens of MiB: reading it in place saves copying it) — and returns what `body` returns; nil
    /// if there is no such snapshot.
    public func withSnapshot<T>(atOrBefore revision: UInt64, _ body: (UInt64, UnsafeRawBufferPointer) throws -> T) throws -> T? {
        try withCursor(txn, dbs.snapshots, path: path) { c in
            var k = MDB_val(), v = MDB_val()
            var rc = withVal(Keys.revision(revision)) { start in
                k = start
                return mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)
            }
            if rc == MDB_NOTFOUND {
                rc = mdb_cursor_get(c, &k, &v, MDB_LAST)
            } else if rc == 0, try revisionKey(k, "snapshots") != revision {
                rc = mdb_cursor_get(c, &k, &v, MDB_PREV)
            }
            if rc == MDB_NOTFOUND { return nil }
            try check(rc, "reading a snapshot from")
            let rev = try revisionKey(k, "snapshots")
            return try body(rev, try bytes(v, in: "snapshots"))
        }
    }

    /// Number of entries in each database.
    func entryCounts() throws -> (events: Int, byObject: Int, byTime: Int, byCause: Int, snapshots: Int) {
        func entries(_ dbi: MDB_dbi) throws -> Int {
            var st = MDB_stat()
            try check(mdb_stat(txn, dbi, &st), "measuring")
            return st.ms_entries
        }
        let byCause = dbs.hasCauseIndex ? try entries(dbs.byCause) : 0
        return (try entries(dbs.events), try entries(dbs.byObject), try entries(dbs.byTime), byCause, try entries(dbs.snapshots))
    }

    /// The cluster id recorded when the journal was created.
    public func clusterID() throws -> String {
        String(decoding: try metaValue(Keys.clusterID) ?? [], as: UTF8.self)
    }

    func metaValue(_ key: [UInt8]) throws -> [UInt8]? {
        var v = MDB_val()
        let rc = withVal(key) { k in mdb_get(txn, dbs.meta, &k, &v) }
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "reading the metadata of")
        return [UInt8](try bytes(v, in: "meta"))
    }

    /// The bytes of a value or key LMDB returned, once checked to lie where they may be read: a
    /// damaged page can make LMDB point past the data file, where reading would crash the process.
    func bytes(_ v: MDB_val, in database: String) throws(JournalError) -> UnsafeRawBufferPointer {
        guard gate.holds(v.mv_data, count: v.mv_size, writing: writing) else { throw outside(database) }
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// The record of event `revision`, checked like `bytes(_:in:)`.
    func bytes(_ v: MDB_val, revision: UInt64) throws(JournalError) -> UnsafeRawBufferPointer {
        guard gate.holds(v.mv_data, count: v.mv_size, writing: writing) else { throw corrupted(revision) }
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// A revision key (8 bytes, big-endian) of `database`.
    func revisionKey(_ k: MDB_val, _ database: String) throws(JournalError) -> UInt64 {
        guard let rev = Keys.decodeRevision(try bytes(k, in: database)) else { throw outside(database) }
        return rev
    }

    func check(_ rc: Int32, _ what: String) throws {
        if rc != 0 { throw lmdbError(rc, path: path, doing: what) }
    }

    func corrupted(_ rev: UInt64) -> JournalError {
        JournalError(.corrupted, "the journal at \(path) has a corrupted record at revision \(rev)", revision: rev)
    }

    func outside(_ database: String) -> JournalError {
        JournalError(.corrupted, "the journal at \(path) is corrupted: \(database) holds a damaged entry")
    }
}

/// Opaque state bytes stored at a revision (see `Journal.putSnapshot`).
public struct Snapshot: Sendable, Equatable {
    public var revision: UInt64
    public var bytes: [UInt8]

    public init(revision: UInt64, bytes: [UInt8]) {
        self.revision = revision
        self.bytes = bytes
    }
}
