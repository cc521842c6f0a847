import Foundation
import Journal
import Synchronization
import Testing
import TestSupport

@Suite struct JournalConcurrencyTests {
    @Test func manyConcurrentAppendersGetGapFreeContiguousRevisions() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path)  // durable: group commit is what makes this fast
        defer { journal.close() }
        let writers = 64, appendsEach = 40
        let batches = try await withThrowingTaskGroup(of: [[Event]].self) { group in
            for w in 0..<writers {
                group.addTask {
                    var mine: [[Event]] = []
                    for i in 0..<appendsEach {
                        let size = (w + i) % 3 + 1
                        mine.append(try await journal.append((0..<size).map { testDraft(w * 1000 + i * 10 + $0) }))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        var all: [UInt64] = []
        for batch in batches {
            // Each caller's batch is contiguous.
            #expect(batch.map(\.revision) == Array(batch[0].revision..<batch[0].revision + UInt64(batch.count)))
            all += batch.map(\.revision)
        }
        #expect(all.sorted() == Array(1...UInt64(all.count)))
        #expect(try journal.head().revision == UInt64(all.count))
        let report = try journal.verify()
        #expect(report.ok, "\(report.problem.map(String.init(describing:)) ?? "")")
        #expect(report.eventsChecked == UInt64(all.count))
    }

    @Test func readersRunWhileTheWriterAppends() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        let done = Atomic<Bool>(false)
        async let writes: Void = {
            for i in 0..<200 { _ = try await journal.append((0..<10).map { testDraft(i * 10 + $0) }) }
            done.store(true, ordering: .sequentiallyConsistent)
        }()
        var lastSeen: UInt64 = 0
        while !done.load(ordering: .sequentiallyConsistent) {
            try journal.read { view throws in
                let head = try view.head()
                #expect(head.revision >= lastSeen)
                lastSeen = head.revision
                // A view is consistent: everything up to its head is there, nothing after it.
                if head.revision > 0 { #expect(try view.event(at: head.revision)?.hash == head.hash) }
                #expect(try view.event(at: head.revision + 1) == nil)
            }
            await Task.yield()
        }
        try await writes
        #expect(try journal.head().revision == 2000)
    }

    @Test func anotherProcessSeesEveryCommittedEvent() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path)
        defer { journal.close() }
        for round in 1...5 {
            let committed = try await journal.append((0..<(round * 7)).map { testDraft(round * 100 + $0) })
            let result = try runKJ(["journal", "stat", "--journal", dir.path, "-o", "json"])
            #expect(result.status == 0, "\(result.stderr)")
            let stat = try JSONDecoder().decode(JournalStat.self, from: Data(result.stdout.utf8))
            #expect(stat.headRevision == committed.last!.revision)
            #expect(stat.headHash == committed.last!.hash.hex)
        }
    }

    @Test func aWriterInAnotherProcessIsSeenHere() async throws {
        let dir = TemporaryDirectory()
        try Journal.open(at: dir.path).close()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: kjExecutable)
        child.arguments = ["dev", "append-loop", "--journal", dir.path, "--writers", "2", "--count", "300"]
        child.standardOutput = FileHandle.nullDevice
        try ChildProcesses.start(child)
        let reader = try Journal.open(at: dir.path, options: .reader)
        defer { reader.close() }
        var seen: [UInt64] = []
        while child.isRunning {
            let head = try reader.head()
            if head.revision > 0 {
                #expect(try reader.event(at: head.revision)?.hash == head.hash)
            }
            seen.append(head.revision)
            try await Task.sleep(for: .milliseconds(5))
        }
        child.waitUntilExit()
        #expect(child.terminationStatus == 0)
        #expect(seen == seen.sorted())
        let final = try reader.head().revision
        #expect(final > 300)  // 2 writers × 300 batches of 1 to 7 events
        #expect(try reader.verify().ok)
    }
}
