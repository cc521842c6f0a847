import Foundation
import Journal
import Testing
import TestSupport

/// Disk full behaves like etcd's NOSPACE alarm: writes are refused with `.noSpace`, reads go on,
/// nothing acknowledged is lost, and writes resume by themselves when space returns.
@Suite(.serialized, .enabled(if: SmallDisk.permitted, "mounting a tmpfs is not permitted here: the disk-full tests need root"))
struct DiskFullTests {
    /// About 1 KiB of data per event.
    func draft(_ i: Int) -> EventDraft {
        var d = testDraft(i)
        d.data = Array(#"{"i":\#(i),"pad":"\#(String(repeating: "p", count: 1000))"}"#.utf8)
        return d
    }

    @Test(.timeLimit(.minutes(5)), arguments: [JournalOptions.Durability.sync, .noSync])
    func writesAreRefusedWhileTheDiskIsFullAndResumeByThemselves(durability: JournalOptions.Durability) async throws {
        let disk = try SmallDisk(megabytes: 8)
        let path = disk.path + "/journal"
        let journal = try Journal.open(at: path, options: JournalOptions(initialMapSize: 1 << 20, durability: durability))
        defer { journal.close() }
        try disk.fill(leaving: 2 << 20)

        var acknowledged: [Event] = []
        var refusal: JournalError?
        for i in stride(from: 1, to: 100_000, by: 10) {
            do {
                acknowledged += try await journal.append((i..<(i + 10)).map(draft))
            } catch let e as JournalError {
                refusal = e
                break
            }
        }
        let refused = try #require(refusal, "the disk never filled up")
        #expect(refused.code == .noSpace, "\(refused)")
        #expect(refused.message.contains("no space left on the device"), "\(refused)")
        #expect(acknowledged.count > 100)
        #expect(journal.isOutOfSpace)

        // Refused again (what was refused, and more), and nothing of it written; reads go on.
        await #expect(throws: JournalError.self) { try await journal.append((0..<200).map(draft)) }
        #expect(try journal.head().revision == acknowledged.last!.revision)
        #expect(try journal.read { try $0.events(in: 1...UInt64.max) } == acknowledged)
        #expect(try journal.verify().ok)
        #expect(journal.isOutOfSpace)

        // Space returns: the next append succeeds without anything being done to the journal.
        disk.emptyBallast()
        let more = try await journal.append((0..<50).map(draft))
        #expect(more.first?.revision == acknowledged.last!.revision + 1)
        #expect(!journal.isOutOfSpace)
        #expect(try journal.read { try $0.events(in: 1...UInt64.max) } == acknowledged + more)
        #expect(try journal.verify().ok)
    }

    @Test(.timeLimit(.minutes(5))) func aJournalOpensAndReadsOnAFullDisk() async throws {
        let disk = try SmallDisk(megabytes: 4)
        let path = disk.path + "/journal"
        var journal = try Journal.open(at: path)
        let written = try await journal.append((1...200).map(draft))
        journal.close()
        try disk.fill(leaving: 0)
        // A writer opens (its chain check cannot record the verified point: no matter) and reads.
        journal = try Journal.open(at: path)
        #expect(try journal.read { try $0.events(in: 1...UInt64.max) } == written)
        let error = await #expect(throws: JournalError.self) { try await journal.append((201...400).map(draft)) }
        #expect(error?.code == .noSpace)
        journal.close()
        let reader = try Journal.open(at: path, options: .reader)
        #expect(try reader.verify().ok)
        reader.close()
    }
}
