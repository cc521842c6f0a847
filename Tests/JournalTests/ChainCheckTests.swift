import CLMDB
import Foundation
import Journal
import Testing
import TestSupport

/// A writable open verifies the chain from the last verified point before anything is appended.
@Suite struct ChainCheckTests {
    /// A durable journal of `events` events, closed.
    func writeEvents(_ dir: String, events: Int) async throws {
        let journal = try Journal.open(at: dir)
        _ = try await journal.append((1...events).map { testDraft($0, name: "o-\($0 % 13)") })
        journal.close()
    }

    /// Flips one bit in the data of the record at `revision`, as `TamperingTests` does.
    func tamper(_ dir: String, revision: UInt64) throws {
        try withRawDatabase(dir, "events") { txn, dbi in
            var record = rawGet(txn, dbi, revisionKey(revision))!
            record[record.count - 40] ^= 0x01
            rawPut(txn, dbi, revisionKey(revision), record)
        }
    }

    func verifiedThrough(_ dir: String) throws -> UInt64? {
        let journal = try Journal.open(at: dir, options: .reader)
        defer { journal.close() }
        return try journal.verifiedThrough()?.revision
    }

    @Test func aWritableOpenRefusesABrokenChainWithWhatVerifySays() async throws {
        let dir = TemporaryDirectory()
        try await writeEvents(dir.path, events: 100)
        try tamper(dir.path, revision: 37)
        let digest = fileDigest(dir.sub("data.mdb"))
        let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path) }
        #expect(error?.code == .chainBroken)
        #expect(error?.revision == 37)
        let reader = try Journal.open(at: dir.path, options: .reader)
        let problem = try #require(try reader.verify().problem)
        reader.close()
        #expect(problem.revision == 37)
        #expect(error?.message == "the journal at \(dir.path) fails verification at revision 37: \(problem.message); it was not opened for writing")
        #expect(fileDigest(dir.sub("data.mdb")) == digest, "the refused open changed the journal")
    }

    @Test func kjServeAndApplyRefuseABrokenChain() async throws {
        let dir = TemporaryDirectory()
        try await writeEvents(dir.sub("journal"), events: 60)
        try tamper(dir.sub("journal"), revision: 42)
        let serve = try runKJ(["serve", "--journal", dir.sub("journal"), "--listen", "127.0.0.1:0", "--log-level", "warning"], within: 30)
        #expect(serve.status == 1, "\(serve.stderr)")
        #expect(serve.stderr.contains("fails verification at revision 42: hash mismatch"), "\(serve.stderr)")
        try "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n".write(toFile: dir.sub("ns.yaml"), atomically: true, encoding: .utf8)
        let apply = try runKJ(["apply", "-f", dir.sub("ns.yaml"), "--journal", dir.sub("journal")])
        #expect(apply.status == 1)
        #expect(apply.stderr.split(separator: "\n").count == 1)
        #expect(apply.stderr.contains("fails verification at revision 42"), "\(apply.stderr)")
    }

    @Test func theVerifiedPointMovesByVerificationNotByAppends() async throws {
        let dir = TemporaryDirectory()
        try await writeEvents(dir.path, events: 50)
        // Created by this kj: the first writable open verified nothing yet (it was new).
        #expect(try verifiedThrough(dir.path) == nil)
        var journal = try Journal.open(at: dir.path)
        #expect(try journal.verifiedThrough()?.revision == 50)
        _ = try await journal.append((51...80).map { testDraft($0) })
        #expect(try journal.verifiedThrough()?.revision == 50)
        journal.close()

        // Damage after the verified point is found at the next open …
        try tamper(dir.path, revision: 60)
        let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path) }
        #expect(error?.code == .chainBroken)
        #expect(error?.revision == 60)
        #expect(try verifiedThrough(dir.path) == 50)
        let report = try Journal.verify(at: dir.path)
        #expect(report.problem?.revision == 60)
        #expect(try verifiedThrough(dir.path) == 50, "a failed verification moved the verified point")

        // … damage before it only by a full verification, which alone checks everything again.
        let other = TemporaryDirectory()
        try await writeEvents(other.path, events: 50)
        journal = try Journal.open(at: other.path)
        _ = try await journal.append((51...80).map { testDraft($0) })
        journal.close()
        #expect(try Journal.verify(at: other.path).ok)
        #expect(try verifiedThrough(other.path) == 80)
        try tamper(other.path, revision: 20)
        journal = try Journal.open(at: other.path)
        journal.close()
        #expect(try Journal.verify(at: other.path).problem?.revision == 20)
    }

    @Test func aJournalWithoutAVerifiedPointIsVerifiedFromTheFirstRevision() async throws {
        let dir = TemporaryDirectory()
        try await writeEvents(dir.path, events: 30)
        var journal = try Journal.open(at: dir.path)
        journal.close()
        #expect(try verifiedThrough(dir.path) == 30)
        // As a journal written before the verified point existed: no meta key.
        try withRawDatabase(dir.path, "meta") { txn, dbi in
            withVal(Array("verified_through".utf8)) { k in #expect(mdb_del(txn, dbi, &k, nil) == 0) }
        }
        try tamper(dir.path, revision: 3)
        let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path) }
        #expect(error?.revision == 3)
        // The record at the verified point itself is checked too.
        let second = TemporaryDirectory()
        try await writeEvents(second.path, events: 30)
        journal = try Journal.open(at: second.path)
        journal.close()
        try tamper(second.path, revision: 30)
        let atPoint = #expect(throws: JournalError.self) { try Journal.open(at: second.path) }
        #expect(atPoint?.revision == 30)
        #expect(atPoint?.message.contains("hash mismatch") == true)
    }

    @Test func acceptingABrokenChainIsRecordedAndMovesThePointPastIt() async throws {
        let dir = TemporaryDirectory()
        try await writeEvents(dir.path, events: 100)
        try tamper(dir.path, revision: 37)
        try tamper(dir.path, revision: 64)
        let expected = try Journal.open(at: dir.path, options: .reader)
        let stored37 = try #require(try expected.event(at: 37)).hash
        expected.close()

        let alice = Actor(kind: "user", name: "alice")
        var journal = try Journal.open(at: dir.path, options: JournalOptions().acceptingBrokenChain(actor: alice))
        let head = try journal.head()
        #expect(head.revision == 102)
        let records = try journal.read { try $0.events(in: 101...102) }
        #expect(records.map(\.type) == ["ChainBreakAccepted", "ChainBreakAccepted"])
        #expect(records.allSatisfy { $0.actor == alice && $0.object == ObjectRef(kind: "Journal", name: journal.clusterID) })
        let data = String(decoding: records[0].data, as: UTF8.self)
        #expect(data.hasPrefix("{\"expectedHash\":\""))
        #expect(data.contains("\"foundHash\":\"\(stored37.hex)\""))
        #expect(data.contains("\"problem\":\"hash mismatch: stored \(stored37.short)…, recomputed "))
        #expect(data.hasSuffix("\"revision\":37}"))
        #expect(String(decoding: records[1].data, as: UTF8.self).hasSuffix("\"revision\":64}"))
        #expect(try journal.verifiedThrough()?.revision == 102)
        _ = try await journal.append([testDraft(103)])
        journal.close()

        // The break stays in the journal, but the next writer opens it without being told.
        journal = try Journal.open(at: dir.path)
        #expect(try journal.head().revision == 103)
        #expect(try journal.verify().problem?.revision == 37)
        journal.close()
    }

    @Test func aJournalThatLostItsEndIsRefusedAndCanBeAccepted() async throws {
        let dir = TemporaryDirectory()
        try await writeEvents(dir.path, events: 20)
        var journal = try Journal.open(at: dir.path)
        journal.close()
        // Events 19 and 20 gone, as if the end of the file had been lost and the indexes rebuilt.
        try withRawDatabase(dir.path, "events") { txn, dbi in
            for rev: UInt64 in [19, 20] { withVal(revisionKey(rev)) { k in #expect(mdb_del(txn, dbi, &k, nil) == 0) } }
        }
        let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path) }
        #expect(error?.revision == 20)
        #expect(error?.message.contains("the record verified before is missing") == true)
        journal = try Journal.open(at: dir.path, options: JournalOptions().acceptingBrokenChain(actor: Actor(kind: "user", name: "ops")))
        #expect(try journal.head().revision == 19)
        #expect(try journal.verifiedThrough()?.revision == 19)
        journal.close()
        journal = try Journal.open(at: dir.path)
        journal.close()
    }
}

/// Calls `body` with an `MDB_val` over `bytes`.
func withVal<R>(_ bytes: [UInt8], _ body: (inout MDB_val) -> R) -> R {
    bytes.withUnsafeBytes { raw in
        var v = MDB_val(mv_size: raw.count, mv_data: UnsafeMutableRawPointer(mutating: raw.baseAddress))
        return body(&v)
    }
}
