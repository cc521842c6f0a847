import CLMDB

extension EventDraft {
    /// The earlier revisions this event points at — its `cause` and its `trigger` — each once:
    /// the keys under which `by_cause` lists it.
    public var causeLinks: [UInt64] {
        switch (cause, trigger) {
        case let (c?, t?): c == t ? [c] : [c, t]
        case let (c?, nil): [c]
        case let (nil, t?): [t]
        case (nil, nil): []
        }
    }
}

extension Event {
    public var causeLinks: [UInt64] { draft.causeLinks }
}

/// The `by_cause` index: for each revision, the later events that name it as their cause or trigger.
enum CauseIndex {
    static func put(_ cause: UInt64, _ revision: UInt64, txn: OpaquePointer, dbi: MDB_dbi, path: String) throws(JournalError) {
        let rc = withVal(Keys.revision(cause)) { k in withVal(Keys.revision(revision)) { v in mdb_put(txn, dbi, &k, &v, 0) } }
        guard rc == 0 else { throw lmdbError(rc, path: path, doing: "indexing") }
    }
}

extension JournalView {
    /// Revisions of the events whose cause or trigger is `revision`, ascending: what it led to.
    public func caused(by revision: UInt64) throws -> [UInt64] {
        guard dbs.hasCauseIndex else {
            throw JournalError(.corrupted, "the journal at \(path) has no by_cause index (it was written by an older kj): run 'kj journal reindex --journal \(path)' once")
        }
        return try revisions(under: Keys.revision(revision), in: dbs.byCause)
    }
}
