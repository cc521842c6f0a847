import CLMDB

/// What `Journal.verify` found.
public struct VerifyReport: Sendable {
    /// The first revision at which the journal does not match what its events say, if any.
    public struct Problem: Sendable, CustomStringConvertible {
        public var revision: UInt64
        public var message: String
        /// For a record that does not chain: the hash the chain gives it and the hash it stores.
        public var expectedHash: ChainHash?
        public var foundHash: ChainHash?
        public var description: String { "revision \(revision): \(message)" }

        public init(revision: UInt64, message: String, expectedHash: ChainHash? = nil, foundHash: ChainHash? = nil) {
            self.revision = revision
            self.message = message
            self.expectedHash = expectedHash
            self.foundHash = foundHash
        }
    }

    /// How many events were read and re-hashed.
    public var eventsChecked: UInt64
    /// The head as the events give it.
    public var head: Head
    /// Nil when everything matches.
    public var problem: Problem?

    public var ok: Bool { problem == nil }
}

extension Journal {
    /// Recomputes the hash chain from the events and checks the indexes and the recorded head
    /// against them, all in one consistent read. Reports the lowest revision that does not match.
    /// Damage to the pages that hold them (which would crash LMDB) is thrown as `.corrupted`.
    ///
    /// `progress` is called now and then with the number of events checked so far.
    public func verify(progress: (UInt64) -> Void = { _ in }) throws -> VerifyReport {
        try read { view in
            try view.checkPages()
            var report = VerifyReport(eventsChecked: 0, head: .empty, problem: nil)
            var problems: [VerifyReport.Problem] = []
            func found(_ rev: UInt64, _ message: String) { problems.append(.init(revision: rev, message: message)) }

            // 1. The chain (gap-free revisions, decodable records, hashes, non-decreasing time),
            //    and each event's index entries.
            var missingIndex: [String: UInt64] = [:]
            var causeEntries = 0
            func indexed(_ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8] = []) throws -> Bool {
                let rc = try withCursor(view.txn, dbi, path: view.path) { c in
                    withVal(key) { k in withVal(value) { v in mdb_cursor_get(c, &k, &v, value.isEmpty ? MDB_SET : MDB_GET_BOTH) } }
                }
                if rc == MDB_NOTFOUND { return false }
                try view.check(rc, "verifying")
                return true
            }
            var chain = ChainWalk(from: .empty)
            try view.forEachRecord(in: 0...UInt64.max, reverse: false) { rev, record in
                report.eventsChecked += 1
                if report.eventsChecked % 100_000 == 0 { progress(report.eventsChecked) }
                if let problem = chain.step(rev, record) {
                    problems.append(problem)
                    return false
                }
                guard let e = EventCodec.decode(record: record) else {
                    found(rev, "the record cannot be decoded (corrupted)")
                    return false
                }
                if missingIndex["by_object"] == nil, try !indexed(view.dbs.byObject, Keys.object(e.object.key), Keys.revision(rev)) {
                    missingIndex["by_object"] = rev
                }
                if missingIndex["by_time"] == nil, try !indexed(view.dbs.byTime, Keys.time(e.time, rev)) {
                    missingIndex["by_time"] = rev
                }
                for cause in e.causeLinks where view.dbs.hasCauseIndex {
                    causeEntries += 1
                    if missingIndex["by_cause"] == nil, try !indexed(view.dbs.byCause, Keys.revision(cause), Keys.revision(rev)) {
                        missingIndex["by_cause"] = rev
                    }
                }
                return true
            }
            let prev = chain.last
            report.head = prev
            progress(report.eventsChecked)
            for (name, rev) in missingIndex.sorted(by: { $0.key < $1.key }) { found(rev, "\(name) index entry is missing") }

            // 2. No index entries beyond one per event (checked in full only when the counts differ).
            let counts = try view.entryCounts()
            let chainIntact = problems.isEmpty && counts.events == Int(prev.revision)
            for (name, dbi, actual) in [("by_object", view.dbs.byObject, counts.byObject), ("by_time", view.dbs.byTime, counts.byTime)]
            where chainIntact && actual != Int(prev.revision) && missingIndex[name] == nil {
                var lowest = UInt64.max
                try withCursor(view.txn, dbi, path: view.path) { c in
                    var k = MDB_val(), v = MDB_val()
                    var rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)
                    while rc == 0 {
                        // by_object: key object, value revision; by_time: key time ‖ revision.
                        let isObject = name == "by_object"
                        let key = try view.bytes(k, in: name)
                        let rev = (isObject ? Keys.decodeRevision(try view.bytes(v, in: name)) : Keys.trailingRevision(key)) ?? 0
                        let expected = try view.event(at: rev).map { e in
                            isObject ? Keys.object(e.object.key) : Keys.time(e.time, rev)
                        }
                        if expected != [UInt8](key) { lowest = min(lowest, rev) }
                        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)
                    }
                }
                if lowest != .max { found(lowest, "\(name) index has an entry that no event matches") }
            }
            if chainIntact, view.dbs.hasCauseIndex, counts.byCause != causeEntries, missingIndex["by_cause"] == nil {
                var lowest = UInt64.max
                try withCursor(view.txn, view.dbs.byCause, path: view.path) { c in
                    var k = MDB_val(), v = MDB_val()
                    var rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)
                    while rc == 0 {
                        let cause = Keys.decodeRevision(try view.bytes(k, in: "by_cause")) ?? 0
                        let rev = Keys.decodeRevision(try view.bytes(v, in: "by_cause")) ?? 0
                        if try view.event(at: rev)?.causeLinks.contains(cause) != true { lowest = min(lowest, rev) }
                        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)
                    }
                }
                if lowest != .max { found(lowest, "by_cause index has an entry that no event matches") }
            }

            // 3. The head recorded in meta.
            if let raw = try view.metaValue(Keys.head) {
                let recorded = Keys.decodePoint(raw)
                if recorded?.revision != prev.revision || recorded?.hash != prev.hash {
                    found(min(recorded?.revision ?? 0, prev.revision) + 1,
                          "meta head (\(recorded.map { String($0.revision) } ?? "unreadable")) does not match the events' head \(prev.revision)")
                }
            } else if prev.revision > 0 {
                found(1, "meta head is missing")
            }
            report.problem = problems.min { $0.revision < $1.revision }
            return report
        }
    }
}

/// Recomputes the hash chain record by record: what `Journal.verify` and the check before a
/// writable journal's first append share.
struct ChainWalk {
    /// The last record that chained (or the point the walk began at).
    private(set) var last: Head

    init(from start: Head) { last = start }

    /// Checks the record stored under `revision` against the chain so far (revisions without gaps,
    /// a decodable record of that revision, its hash, its time not before the previous one's) and
    /// moves on to it; or returns what is wrong and stays.
    mutating func step(_ revision: UInt64, _ record: UnsafeRawBufferPointer) -> VerifyReport.Problem? {
        let expected = last.revision + 1
        guard revision == expected else {
            return .init(revision: expected, message: revision == 0 ? "a record is stored under revision 0" : "revision \(expected) is missing (next stored is \(revision))")
        }
        var computed: ChainHash?, stored: ChainHash?
        if record.count >= EventCodec.hashSize {
            let split = record.count - EventCodec.hashSize
            computed = last.hash.chained(with: UnsafeRawBufferPointer(rebasing: record[..<split]))
            stored = ChainHash(bytes: UnsafeRawBufferPointer(rebasing: record[split...]))
        }
        guard let (claimed, time) = EventCodec.scan(record: record), let hash = computed else {
            return .init(revision: revision, message: "the record cannot be decoded (corrupted)", expectedHash: computed, foundHash: stored)
        }
        guard claimed == revision else {
            return .init(revision: revision, message: "the record says revision \(claimed)", expectedHash: computed, foundHash: stored)
        }
        guard hash == stored else {
            return .init(revision: revision, message: "hash mismatch: stored \(stored?.short ?? "")…, recomputed \(hash.short)…", expectedHash: hash, foundHash: stored)
        }
        guard time >= last.time else {
            return .init(revision: revision, message: "time \(time) is earlier than revision \(last.revision)'s \(last.time)", expectedHash: hash, foundHash: stored)
        }
        last = Head(revision: revision, hash: hash, time: time)
        return nil
    }

    /// Goes on after a problem as if the record stored under `revision` were right: later records
    /// chain from the hash it stores.
    mutating func resume(at revision: UInt64, _ record: UnsafeRawBufferPointer) {
        // The time stays: a damaged record's time says nothing.
        var next = Head(revision: revision, hash: last.hash, time: last.time)
        if record.count >= EventCodec.hashSize {
            next.hash = ChainHash(bytes: UnsafeRawBufferPointer(rebasing: record[(record.count - EventCodec.hashSize)...]))
        }
        last = next
    }
}
