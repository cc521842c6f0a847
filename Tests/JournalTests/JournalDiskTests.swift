import CLMDB
import Crypto
import Foundation
import Journal
import Testing
import TestSupport

/// Opens the LMDB environment in `dir` directly (the journal must be closed) and runs `body` in a
/// write transaction with the named database, committing afterwards.
func withRawDatabase(_ dir: String, _ name: String, flags: Int32 = 0, _ body: (OpaquePointer, MDB_dbi) throws -> Void) throws {
    var env: OpaquePointer?
    #expect(mdb_env_create(&env) == 0)
    mdb_env_set_maxdbs(env, 8)
    defer { mdb_env_close(env) }
    #expect(mdb_env_open(env, dir, 0, 0o644) == 0)
    var txn: OpaquePointer?
    #expect(mdb_txn_begin(env, nil, 0, &txn) == 0)
    var dbi: MDB_dbi = 0
    #expect(mdb_dbi_open(txn, name, UInt32(MDB_CREATE | flags), &dbi) == 0)
    try body(txn!, dbi)
    #expect(mdb_txn_commit(txn) == 0)
}

func revisionKey(_ rev: UInt64) -> [UInt8] { withUnsafeBytes(of: rev.bigEndian) { Array($0) } }

func rawGet(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8]) -> [UInt8]? {
    var k = MDB_val(), v = MDB_val()
    return key.withUnsafeBytes { kb in
        k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
        guard mdb_get(txn, dbi, &k, &v) == 0 else { return nil }
        return [UInt8](UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }
}

func rawPut(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8]) {
    key.withUnsafeBytes { kb in
        value.withUnsafeBytes { vb in
            var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
            var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
            #expect(mdb_put(txn, dbi, &k, &v, 0) == 0)
        }
    }
}

func fileDigest(_ path: String) -> String {
    let data = FileManager.default.contents(atPath: path) ?? Data()
    return SHA256.hash(data: data).description
}

func writeJournal(_ dir: String, events: Int) async throws {
    let journal = try Journal.open(at: dir, options: JournalOptions(durability: .noSync))
    _ = try await journal.append((1...events).map { testDraft($0, name: "o-\($0 % 13)") })
    try journal.sync()
    journal.close()
}

@Suite struct TamperingTests {
    /// One changed byte anywhere in a record (header, strings, payload, hash) is reported at that revision.
    @Test(arguments: [0, 3, 12, 20, 30, -40, -33, -1])
    func oneChangedByteIsReportedAtItsRevision(offset: Int) async throws {
        let dir = TemporaryDirectory()
        try await writeJournal(dir.path, events: 100)
        try withRawDatabase(dir.path, "events") { txn, dbi in
            var record = rawGet(txn, dbi, revisionKey(37))!
            let i = offset >= 0 ? offset : record.count + offset
            record[i] ^= 0x01
            rawPut(txn, dbi, revisionKey(37), record)
        }
        let journal = try Journal.open(at: dir.path, options: .reader)
        defer { journal.close() }
        let report = try journal.verify()
        #expect(report.problem?.revision == 37, "\(report.problem.map(String.init(describing:)) ?? "no problem found")")
    }

    @Test func aMissingIndexEntryIsReportedAtItsRevision() async throws {
        let dir = TemporaryDirectory()
        try await writeJournal(dir.path, events: 60)
        try withRawDatabase(dir.path, "by_object", flags: MDB_DUPSORT | MDB_DUPFIXED) { txn, dbi in
            // by_object: key kind 0 namespace 0 name, one duplicate value per revision.
            let key = Array("Pod\u{0}default\u{0}o-\(42 % 13)".utf8), value = revisionKey(42)
            key.withUnsafeBytes { kb in
                value.withUnsafeBytes { vb in
                    var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
                    var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
                    #expect(mdb_del(txn, dbi, &k, &v) == 0)
                }
            }
        }
        let journal = try Journal.open(at: dir.path, options: .reader)
        let report = try journal.verify()
        #expect(report.problem?.revision == 42)
        journal.close()

        // reindex repairs it from the events alone.
        let writer = try Journal.open(at: dir.path)
        defer { writer.close() }
        try await writer.reindex()
        #expect(try writer.verify().ok)
        #expect(try writer.read { try $0.history(of: ObjectKey(kind: "Pod", namespace: "default", name: "o-3")) }.contains(42))
    }

    @Test func anExtraIndexEntryIsReported() async throws {
        let dir = TemporaryDirectory()
        try await writeJournal(dir.path, events: 30)
        try withRawDatabase(dir.path, "by_time") { txn, dbi in
            rawPut(txn, dbi, revisionKey(1) + revisionKey(17), [])
        }
        let journal = try Journal.open(at: dir.path, options: .reader)
        defer { journal.close() }
        #expect(try journal.verify().problem?.revision == 17)
    }
}

@Suite struct MapGrowthTests {
    @Test func aOneMebibyteMapGrowsToHoldAHundredThousandEvents() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(initialMapSize: 1 << 20, durability: .noSync))
        defer { journal.close() }
        #expect(journal.mapSize == 1 << 20)
        for chunk in 0..<100 {
            _ = try await journal.append((0..<1000).map { testDraft(chunk * 1000 + $0, name: "o-\($0 % 500)") })
        }
        #expect(try journal.head().revision == 100_000)
        #expect(journal.mapSize > 16 << 20)
        let report = try journal.verify()
        #expect(report.ok)
        #expect(report.eventsChecked == 100_000)
    }

    @Test func aFullJournalSaysSoAndKeepsWhatItHad() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(initialMapSize: 1 << 20, maxMapSize: 2 << 20, durability: .noSync))
        defer { journal.close() }
        var lastGood: UInt64 = 0
        var failure: JournalError?
        for chunk in 0..<200 where failure == nil {
            do {
                lastGood = try await journal.append((0..<100).map { testDraft(chunk * 100 + $0) }).last!.revision
            } catch let e as JournalError {
                failure = e
            }
        }
        #expect(failure?.code == .journalFull)
        #expect(failure?.message.contains("is full (map size 2 MiB reached); raise --max-size") == true)
        #expect(try journal.head().revision == lastGood)
        #expect(try journal.verify().ok)
    }

    @Test func aReaderProcessFollowsAMapGrownByTheWriter() async throws {
        let dir = TemporaryDirectory()
        try Journal.open(at: dir.path, options: JournalOptions(initialMapSize: 1 << 20)).close()
        let reader = try Journal.open(at: dir.path, options: .reader)
        defer { reader.close() }
        let before = try reader.head()
        let result = try runKJ(["dev", "append-loop", "--journal", dir.path, "--writers", "1", "--count", "3000", "--no-sync"])
        #expect(result.status == 0, "\(result.stderr)")
        let after = try reader.head()
        #expect(after.revision > before.revision + 3000)
        #expect(try reader.verify().ok)
    }
}

@Suite struct OpeningTests {
    @Test func aDirectoryHoldingSomethingElseIsRefusedAndUnchanged() throws {
        let dir = TemporaryDirectory()
        try Data("hello".utf8).write(to: URL(fileURLWithPath: dir.sub("notes.txt")))
        for options in [JournalOptions(), .reader] {
            let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path, options: options) }
            #expect(error?.code == .notAJournal)
            #expect(error?.message.contains("is not a journal") == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["notes.txt"])
        }
    }

    @Test func aDataFileThatIsNotLMDBIsRefusedAndUnchanged() throws {
        let dir = TemporaryDirectory()
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: dir.sub("data.mdb")))
        let digest = fileDigest(dir.sub("data.mdb"))
        let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path) }
        #expect(error?.code == .notAJournal)
        #expect(fileDigest(dir.sub("data.mdb")) == digest)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["data.mdb"])
    }

    @Test func anotherProgramsLMDBIsRefusedAndUnchanged() throws {
        let dir = TemporaryDirectory()
        try withRawDatabase(dir.path, "users") { txn, dbi in rawPut(txn, dbi, Array("alice".utf8), Array("x".utf8)) }
        let digest = fileDigest(dir.sub("data.mdb"))
        let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path) }
        #expect(error?.code == .notAJournal)
        #expect(error?.message.contains("not a KubeJournal journal") == true)
        #expect(fileDigest(dir.sub("data.mdb")) == digest)
    }

    @Test func aNewerFormatIsRefusedAndUnchanged() async throws {
        let dir = TemporaryDirectory()
        try await writeJournal(dir.path, events: 5)
        try withRawDatabase(dir.path, "meta") { txn, dbi in
            rawPut(txn, dbi, Array("format_version".utf8), withUnsafeBytes(of: UInt32(2).bigEndian) { Array($0) })
        }
        let digest = fileDigest(dir.sub("data.mdb"))
        for options in [JournalOptions(), .reader] {
            let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path, options: options) }
            #expect(error?.code == .formatTooNew)
            #expect(error?.message.contains("format version 2") == true)
        }
        #expect(fileDigest(dir.sub("data.mdb")) == digest)
    }

    /// The journal's files are its owner's alone: 0600, in directories it creates with 0700.
    @Test func aNewJournalIsPrivateToItsOwner() throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("data/kubejournal/journal")
        try Journal.open(at: path).close()
        func mode(_ p: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: p)[.posixPermissions]) as? Int ?? -1) & 0o777 }
        for created in [dir.sub("data"), dir.sub("data/kubejournal"), path] { #expect(mode(created) == 0o700, "\(created)") }
        #expect(mode(path + "/data.mdb") == 0o600)
        #expect(mode(path + "/lock.mdb") == 0o600)
    }

    @Test func readOnlyOpeningOfNothingSaysThereIsNoJournal() throws {
        let dir = TemporaryDirectory()
        let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.sub("missing"), options: .reader) }
        #expect(error?.code == .noJournal)
        #expect(!FileManager.default.fileExists(atPath: dir.sub("missing")))
    }

    /// The journal is unreadable to the user running kj (as root the check runs kj as `nobody`).
    @Test func permissionDeniedIsReadable() async throws {
        let dir = TemporaryDirectory()
        try await writeJournal(dir.path, events: 3)
        chmod(dir.path, 0o777)
        chmod(dir.sub("data.mdb"), 0)
        chmod(dir.sub("lock.mdb"), 0)
        defer { chmod(dir.sub("data.mdb"), 0o644); chmod(dir.sub("lock.mdb"), 0o644) }
        var result: ProcessResult
        if getuid() == 0 {
            let setpriv = "/usr/bin/setpriv"
            try #require(FileManager.default.isExecutableFile(atPath: setpriv))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: setpriv)
            p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", kjExecutable, "journal", "stat", "--journal", dir.path]
            let err = ChildProcesses.pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try ChildProcesses.start(p)
            let text = String(decoding: err.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
            p.waitUntilExit()
            result = ProcessResult(status: p.terminationStatus, stdout: "", stderr: text)
        } else {
            result = try runKJ(["journal", "stat", "--journal", dir.path])
        }
        #expect(result.status == 1)
        #expect(result.stderr.contains("permission denied"), "\(result.stderr)")
    }
}

@Suite struct CauseIndexTests {
    /// Events 1…40; from 11 on, each names `i / 2` as cause and `i - 1` as trigger.
    func writeCausalJournal(_ dir: String) async throws {
        let journal = try Journal.open(at: dir, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        _ = try await journal.append((1...40).map { i in
            var d = testDraft(i)
            if i > 10 { d.cause = UInt64(i / 2); d.trigger = UInt64(i - 1) }
            return d
        })
    }

    func expectedCaused(by r: UInt64) -> [UInt64] {
        (11...40).map(UInt64.init).filter { $0 / 2 == r || $0 - 1 == r }
    }

    @Test func theIndexListsWhatEachEventLedToAndVerifyChecksIt() async throws {
        let dir = TemporaryDirectory()
        try await writeCausalJournal(dir.path)
        let journal = try Journal.open(at: dir.path, options: .reader)
        for r in UInt64(1)...40 { #expect(try journal.read { try $0.caused(by: r) } == expectedCaused(by: r), "caused by \(r)") }
        #expect(try journal.verify().ok)
        #expect(try journal.stat().causeEntries == 60)  // 30 events, each with a distinct cause and trigger
        journal.close()

        // A missing entry is reported at the event that should have it; an extra one at the event it names.
        try withRawDatabase(dir.path, "by_cause", flags: MDB_DUPSORT | MDB_DUPFIXED) { txn, dbi in
            revisionKey(16).withUnsafeBytes { kb in
                revisionKey(33).withUnsafeBytes { vb in
                    var k = MDB_val(mv_size: 8, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
                    var v = MDB_val(mv_size: 8, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
                    #expect(mdb_del(txn, dbi, &k, &v) == 0)
                }
            }
        }
        let damaged = try Journal.open(at: dir.path, options: .reader)
        #expect(try damaged.verify().problem?.revision == 33)
        damaged.close()
        let writer = try Journal.open(at: dir.path)
        try await writer.reindex()
        #expect(try writer.verify().ok)
        writer.close()
        try withRawDatabase(dir.path, "by_cause", flags: MDB_DUPSORT | MDB_DUPFIXED) { txn, dbi in rawPut(txn, dbi, revisionKey(3), revisionKey(25)) }
        let extra = try Journal.open(at: dir.path, options: .reader)
        defer { extra.close() }
        #expect(try extra.verify().problem?.revision == 25)
    }

    @Test func aJournalWithoutTheIndexGetsItFromItsFirstWriter() async throws {
        let dir = TemporaryDirectory()
        try await writeCausalJournal(dir.path)
        try withRawDatabase(dir.path, "by_cause", flags: MDB_DUPSORT | MDB_DUPFIXED) { txn, dbi in #expect(mdb_drop(txn, dbi, 1) == 0) }
        // Readers still open it; only the query that needs the index says what to do.
        let old = try Journal.open(at: dir.path, options: .reader)
        #expect(try old.verify().ok)
        let error = #expect(throws: JournalError.self) { try old.read { try $0.caused(by: 20) } }
        #expect(error?.description.contains("kj journal reindex") == true)
        old.close()
        let writer = try Journal.open(at: dir.path)
        #expect(try writer.read { try $0.caused(by: 20) } == expectedCaused(by: 20))
        #expect(try writer.verify().ok)
        writer.close()
        let reader = try Journal.open(at: dir.path, options: .reader)
        defer { reader.close() }
        #expect(try reader.read { try $0.caused(by: 7) } == expectedCaused(by: 7))
    }
}

@Suite struct FailedWriteTests {
    /// A write that fails part-way (here an import whose third event is out of time order) leaves
    /// no index entries behind for the revisions it did not commit.
    @Test func aFailedImportLeavesNoIndexEntriesForTheNextWrite() async throws {
        let source = TemporaryDirectory(), target = TemporaryDirectory()
        let a = try Journal.open(at: source.path, options: JournalOptions(durability: .noSync))
        var events = try await a.append((1...3).map { testDraft($0, name: "imported-\($0)") })
        a.close()
        events[2].draft.time = events[0].time.adding(microseconds: -1)
        let b = try Journal.open(at: target.path, options: JournalOptions(durability: .noSync))
        defer { b.close() }
        let error = await #expect(throws: JournalError.self) { try await b.importEvents(events) }
        #expect(error?.code == .chainMismatch)
        _ = try await b.append((1...3).map { testDraft($0, name: "appended-\($0)") })
        let report = try b.verify()
        #expect(report.ok, "\(report.problem.map(String.init(describing:)) ?? "")")
    }
}
