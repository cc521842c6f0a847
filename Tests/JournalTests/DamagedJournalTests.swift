import CLMDB
import Foundation
import Journal
import Testing
import TestSupport

/// Damaged data files are named, never crashed on: every command that opens them runs in a child
/// process, so a crash fails the test instead of killing the test runner.
@Suite(.serialized) struct DamagedJournalTests {
    /// A journal written by `kj apply` (durable, so its data file is exactly as long as its pages):
    /// 150 pods, every tenth with an annotation large enough for LMDB's overflow pages, then an
    /// update of 40 of them.
    static let fixture: TemporaryDirectory = {
        let dir = TemporaryDirectory("kj-damaged")
        func manifest(_ range: Range<Int>, label: String) -> String {
            range.map { i in
                let big = i % 10 == 0 ? "\n  annotations: {note: \"\(String(repeating: "x", count: 6000))\"}" : ""
                return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: p\(i)
                  labels: {app: web, round: \(label)}\(big)
                spec:
                  containers:
                  - name: c
                    image: nginx:1.\(i % 30)
                """
            }.joined(separator: "\n---\n")
        }
        for (range, label) in [(0..<150, "one"), (0..<40, "two")] {
            let file = dir.sub("pods-\(label).yaml")
            try! manifest(range, label: label).write(toFile: file, atomically: true, encoding: .utf8)
            let r = try! runKJ(["apply", "-f", file, "--journal", dir.sub("journal")])
            precondition(r.status == 0, r.stderr)
        }
        return dir
    }()

    /// A journal written through the API whose indexes hold LMDB sub-databases (6,000 events about
    /// one object, all naming one cause) and whose snapshot fills overflow pages.
    func manyDuplicates() async throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("kj-damaged")
        let journal = try Journal.open(at: dir.sub("journal"))
        for batch in 0..<30 {
            _ = try await journal.append((0..<200).map { i in
                var d = testDraft(batch * 200 + i, name: "hot")
                d.cause = 1
                return d
            })
        }
        try await journal.putSnapshot([UInt8](repeating: 7, count: 100_000), at: 10)
        journal.close()
        return dir
    }

    /// A copy of a fixture journal to damage.
    func copy(_ fixture: TemporaryDirectory = Self.fixture) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        for name in ["data.mdb", "lock.mdb"] {
            try FileManager.default.copyItem(atPath: fixture.sub("journal/\(name)"), toPath: dir.sub(name))
        }
        return dir
    }

    /// The commands that read a journal, each as a child process: every one either succeeds or
    /// fails with exit status 1 and one line on standard error containing `expected` — never a signal.
    func expectNamedOrHarmless(_ dir: String, expected: String? = nil, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for command in [["journal", "verify"], ["get", "pods"], ["journal", "export"], ["journal", "stat"]] {
            let r = try runKJ(command + ["--journal", dir])
            let lines = r.stderr.split(separator: "\n")
            let label = "\(what): kj \(command.joined(separator: " ")) exited \(r.status): \(r.stderr.prefix(300))"
            #expect(r.status == 0 || r.status == 1, "\(label)", sourceLocation: sourceLocation)
            if r.status != 0 {
                // kj journal verify reports a bad revision on standard output, other failures on standard error.
                let verifyFailed = command == ["journal", "verify"] && r.stderr.isEmpty && r.stdout.hasPrefix("FAILED at revision ")
                #expect(lines.count == 1 || verifyFailed, "\(label)", sourceLocation: sourceLocation)
                if let expected { #expect(r.stderr.contains(expected), "\(label)", sourceLocation: sourceLocation) }
            } else if expected != nil {
                Issue.record("\(label): the damage went unnoticed", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func aTruncatedJournalIsNamed() throws {
        let size = try #require(FileManager.default.attributesOfItem(atPath: Self.fixture.sub("journal/data.mdb"))[.size] as? Int)
        for cut in [100, 6000, 9000, size / 4, size / 2, size * 3 / 4, size - 4096, size - 1] {
            let dir = try copy()
            #expect(truncate(dir.sub("data.mdb"), off_t(cut)) == 0)
            try expectNamedOrHarmless(dir.path, expected: "is truncated: expected at least", "cut at \(cut) of \(size) bytes")
            for options in [JournalOptions.reader, JournalOptions()] {
                let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path, options: options) }
                #expect(error?.code == .truncated)
                #expect(error?.message == "journal at \(dir.path) is truncated: expected at least \(cut < 4096 + 152 ? 8192 : size) bytes, found \(cut)")
            }
            #expect(fileSize(dir.sub("data.mdb")) == cut, "a failed open changed the file")
        }
    }

    @Test func kjServeRefusesATruncatedJournal() throws {
        let dir = try copy()
        let size = fileSize(dir.sub("data.mdb"))
        #expect(truncate(dir.sub("data.mdb"), off_t(size / 2)) == 0)
        let r = try runKJ(["serve", "--journal", dir.path, "--listen", "127.0.0.1:0", "--log-level", "warning"], within: 60)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("is truncated: expected at least \(size) bytes"), "\(r.stderr)")
    }

    /// Meta pages that LMDB would trust, damaged field by field (offsets in `DataFile`).
    @Test(arguments: [
        ("magic of the newer meta page", 16, [0, 0, 0, 0], "is corrupted"),
        ("data version", 20, [7, 0, 0, 0], "data version 7"),
        ("page size", 40, [0x13, 0, 0, 0], "page size"),
        ("last page", 136, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0], "last page"),
        ("main database root", 128, [0x40, 0x42, 0x0f, 0, 0, 0, 0, 0], "root page"),
        ("main database depth", 94, [0xff, 0], "tree depth"),
    ] as [(String, Int, [UInt8], String)])
    func aDamagedMetaPageIsNamed(field: String, offset: Int, bytes: [UInt8], expected: String) throws {
        let dir = try copy()
        // The newer meta page is the one LMDB uses: damage that one.
        let page = newerMetaPage(dir.sub("data.mdb"))
        overwrite(dir.sub("data.mdb"), at: page * 4096 + offset, with: bytes)
        try expectNamedOrHarmless(dir.path, expected: expected, field)
        let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path, options: .reader) }
        #expect(error?.code == .corrupted, "\(field)")
    }

    @Test func aFileWithoutAnyMetaPageIsNotAJournal() throws {
        let dir = try copy()
        overwrite(dir.sub("data.mdb"), at: 16, with: [0, 0, 0, 0])
        overwrite(dir.sub("data.mdb"), at: 4096 + 16, with: [0, 0, 0, 0])
        let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path, options: .reader) }
        #expect(error?.code == .notAJournal)
    }

    /// Bytes overwritten all over the data file: in event records (payloads, headers, hashes,
    /// overflow pages), in the pages holding them (LMDB's page headers, node offsets, node flags and
    /// sizes: what crashed inside liblmdb before the journal checked its pages), in index and
    /// `meta` pages, in the meta pages' fields, and anywhere.
    @Test(.timeLimit(.minutes(20)), arguments: ["kj apply", "many duplicates"])
    func randomlyOverwrittenJournalsAreNamedOrHarmless(fixture name: String) async throws {
        let fixture = name == "kj apply" ? Self.fixture : try await manyDuplicates()
        let targets = try damageTargets(fixture.sub("journal"))
        var rng = SeededGenerator(seed: 20_261_130)
        let patterns: [(inout SeededGenerator, Int) -> [UInt8]] = [
            { rng, n in (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } },
            { _, n in [UInt8](repeating: 0xff, count: n) },
            { _, n in [UInt8](repeating: 0, count: n) },
        ]
        for round in 0..<99 {
            let (area, range) = targets[round % targets.count].randomElement(using: &rng)!
            let length = min([1, 2, 4, 8].randomElement(using: &rng)!, range.count)
            let at = Int.random(in: range.lowerBound...(range.upperBound - length), using: &rng)
            let bytes = patterns.randomElement(using: &rng)!(&rng, length)
            let dir = try copy(fixture)
            overwrite(dir.sub("data.mdb"), at: at, with: bytes)
            try expectNamedOrHarmless(dir.path, "\(name) round \(round): \(area) at byte \(at) overwritten with \(bytes)")
        }
    }

    /// Where to damage the fixture, by kind of target (file ranges): event records, the size and
    /// flags fields of their LMDB nodes, the headers of the pages holding them, those whole pages,
    /// index pages, `meta` pages, the meta pages' fields, anywhere.
    func damageTargets(_ dir: String) throws -> [[(String, Range<Int>)]] {
        var records: [(String, Range<Int>)] = [], sizes: [(String, Range<Int>)] = [], flags: [(String, Range<Int>)] = []
        var recordPages: Set<Int> = [], indexPages: Set<Int> = [], metaPages: Set<Int> = []
        try withReadOnlyEnvironment(dir) { txn, dbi in
            func offset(_ p: UnsafeMutableRawPointer) -> Int {
                // Pages are 4 KiB and page-aligned in the map; each starts with its page number.
                let page = UnsafeMutableRawPointer(bitPattern: UInt(bitPattern: p) & ~UInt(4095))!
                return Int(page.load(as: UInt64.self)) * 4096 + (p - page)
            }
            try each(txn, dbi("events")) { k, v in
                let start = offset(v.mv_data)
                records.append(("event record", start..<(start + v.mv_size)))
                recordPages.insert(offset(k.mv_data) / 4096)
                recordPages.insert(start / 4096)
                if v.mv_size < 2000 {
                    // The node: data size (4 bytes), flags, key size; then the 8-byte key, then the record.
                    sizes.append(("record size field", (start - 16)..<(start - 12)))
                    flags.append(("record node flags", (start - 12)..<(start - 10)))
                }
            }
            for name in ["by_object", "by_time", "by_cause"] {
                try each(txn, dbi(name)) { k, v in
                    indexPages.insert(offset(k.mv_data) / 4096)
                    if v.mv_size > 0 { indexPages.insert(offset(v.mv_data) / 4096) }
                }
            }
            try each(txn, dbi("meta")) { k, _ in metaPages.insert(offset(k.mv_data) / 4096) }
        }
        func pages(_ set: Set<Int>, _ name: String) -> [(String, Range<Int>)] {
            set.sorted().map { (name, ($0 * 4096)..<($0 * 4096 + 4096)) }
        }
        var metaFields: [(String, Range<Int>)] = []
        for page in [0, 1] {
            for (field, range) in [("meta mapsize", 32..<40), ("meta page size", 40..<44), ("meta roots", 80..<88), ("meta roots", 128..<136),
                                   ("meta last page", 136..<144), ("meta txnid", 144..<152), ("meta magic", 16..<20)] {
                metaFields.append((field, (page * 4096 + range.lowerBound)..<(page * 4096 + range.upperBound)))
            }
        }
        #expect(records.count > 150 && sizes.count > 100 && indexPages.count > 1)
        let size = fileSize(dir + "/data.mdb")
        let headers = recordPages.sorted().map { ("page header (flags, bounds)", ($0 * 4096 + 10)..<($0 * 4096 + 16)) }
        return [records, sizes, flags, headers, pages(recordPages, "page holding records"), pages(indexPages, "index page"),
                pages(metaPages, "meta database page"), metaFields, [("anywhere", 8192..<size)]]
    }
}

// MARK: helpers

/// Runs `kj` like `runKJ`, but stops it after `seconds` (for commands that run until told to stop).
func runKJ(_ arguments: [String], within seconds: Double) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: kjExecutable)
    p.arguments = arguments
    let err = ChildProcesses.pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try ChildProcesses.start(p)
    let deadline = Date().addingTimeInterval(seconds)
    while p.isRunning, Date() < deadline { usleep(20_000) }
    if p.isRunning { p.terminate() }
    let text = String(decoding: err.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: "", stderr: text)
}

func fileSize(_ path: String) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
}

func overwrite(_ file: String, at offset: Int, with bytes: [UInt8]) {
    let fd = open(file, O_WRONLY)
    precondition(fd >= 0)
    defer { close(fd) }
    let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
    precondition(n == bytes.count)
}

/// 0 or 1: the meta page with the higher transaction id.
func newerMetaPage(_ file: String) -> Int {
    let data = FileManager.default.contents(atPath: file)!
    let txn = { (page: Int) in data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: page * 4096 + 144, as: UInt64.self) } }
    return txn(1) > txn(0) ? 1 : 0
}

/// Opens the LMDB environment in `dir` read-only and runs `body` in a read transaction, with a
/// function that opens a named database.
func withReadOnlyEnvironment(_ dir: String, _ body: (OpaquePointer, (String) throws -> MDB_dbi) throws -> Void) throws {
    var env: OpaquePointer?
    #expect(mdb_env_create(&env) == 0)
    mdb_env_set_maxdbs(env, 8)
    defer { mdb_env_close(env) }
    #expect(mdb_env_open(env, dir, UInt32(MDB_RDONLY), 0o600) == 0)
    var txn: OpaquePointer?
    #expect(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn) == 0)
    defer { mdb_txn_abort(txn) }
    try body(txn!) { name in
        var dbi: MDB_dbi = 0
        try #require(mdb_dbi_open(txn, name, 0, &dbi) == 0)
        return dbi
    }
}

/// Calls `body` with every key and value of `dbi` (the first duplicate of each key).
func each(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ body: (MDB_val, MDB_val) throws -> Void) throws {
    var cursor: OpaquePointer?
    try #require(mdb_cursor_open(txn, dbi, &cursor) == 0)
    defer { mdb_cursor_close(cursor) }
    var k = MDB_val(), v = MDB_val()
    var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
    while rc == 0 {
        try body(k, v)
        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT_NODUP)
    }
}
