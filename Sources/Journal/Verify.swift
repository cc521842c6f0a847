import CLMDB

/// What `Journal.verify` found.
public struct VerifyReport: Sendable {
    /// The first revision at which the journal does not match what its events say, if any.
    public struct Problem: Sendable, CustomStringConvertible {
        public var revision: UInt64
        public var message: String
        public var description: String { "revision \(revision): \(message)" }
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
    ///
    /// `progress` is called now and then with the number of events checked so far.
    public func verify(progress: (UInt64) -> Void = { _ in }) throws -> VerifyReport {
        try read { view in
            var report = VerifyReport(eventsChecked: 0, head: .empty, problem: nil)
            var problems: [VerifyReport.Problem] = []
            func found(_ rev: UInt64, _ message: String) { problems.append(.init(revision: rev, message: message)) }

            // 1. The chain (gap-free revisions, decodable records, hashes, non-decreasing time),
            //    and each event's index entries.
            var prev = Head.empty
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
            try view.forEachRecord(in: 0...UInt64.max, reverse: false) { rev, record in
                report.eventsChecked += 1
                if report.eventsChecked % 100_000 == 0 { progress(report.eventsChecked) }
                guard rev == prev.revision + 1 else {
                    found(prev.revision + 1, rev == 0 ? "a record is stored under revision 0" : "revision \(prev.revision + 1) is missing (next stored is \(rev))")
                    return false
                }
                guard let e = EventCodec.decode(record: record) else {
                    found(rev, "the record cannot be decoded (corrupted)")
                    return false
                }
                guard e.revision == rev else {
                    found(rev, "the record says revision \(e.revision)")
                    return false
                }
                let canonical = UnsafeRawBufferPointer(rebasing: record[..<(record.count - EventCodec.hashSize)])
                let hash = prev.hash.chained(with: canonical)
                guard hash == e.hash else {
                    found(rev, "hash mismatch: stored \(e.hash.short)…, recomputed \(hash.short)…")
                    return false
                }
                guard e.time >= prev.time else {
                    found(rev, "time \(e.time) is earlier than revision \(prev.revision)'s \(prev.time)")
                    return false
                }
                prev = Head(revision: rev, hash: hash, time: e.time)
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
                        let rev = (isObject ? Keys.decodeRevision(v.raw) : Keys.trailingRevision(k.raw)) ?? 0
                        let expected = try view.event(at: rev).map { e in
                            isObject ? Keys.object(e.object.key) : Keys.time(e.time, rev)
                        }
                        if expected != [UInt8](k.raw) { lowest = min(lowest, rev) }
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
                        let cause = Keys.decodeRevision(k.raw) ?? 0, rev = Keys.decodeRevision(v.raw) ?? 0
                        if try view.event(at: rev)?.causeLinks.contains(cause) != true { lowest = min(lowest, rev) }
                        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)
                    }
                }
                if lowest != .max { found(lowest, "by_cause index has an entry that no event matches") }
            }

            // 3. The head recorded in meta.
            if let raw = try view.metaValue(Keys.head) {
                let recorded: UInt64? = raw.count == 48 ? raw.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) } : nil
                var recordedHash: ChainHash?
                if raw.count == 48 { recordedHash = raw.withUnsafeBytes { ChainHash(bytes: UnsafeRawBufferPointer(rebasing: $0[16..<48])) } }
                if recorded != prev.revision || recordedHash != prev.hash {
                    found(min(recorded ?? 0, prev.revision) + 1, "meta head (\(recorded.map(String.init) ?? "unreadable")) does not match the events' head \(prev.revision)")
                }
            } else if prev.revision > 0 {
                found(1, "meta head is missing")
            }
            report.problem = problems.min { $0.revision < $1.revision }
            return report
        }
    }
}
