import Foundation
import Journal
import Testing
import TestSupport

/// A child process appends and prints each acknowledged revision; SIGKILL at random moments must
/// never lose an acknowledged revision or break the chain.
@Suite struct CrashSafetyTests {
    @Test func sigkillNeverLosesAnAcknowledgedRevision() async throws {
        let dir = TemporaryDirectory()
        var rng = SeededGenerator(seed: 20261122)
        var totalAcked = 0
        for round in 1...20 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: kjExecutable)
            // A small initial map, so some kills land while the map is growing.
            child.arguments = ["dev", "append-loop", "--journal", dir.path, "--writers", "4", "--initial-map-mib", "1"]
            let out = ChildProcesses.pipe()
            child.standardOutput = out
            child.standardError = FileHandle.nullDevice
            try ChildProcesses.start(child)
            // Wait until the child has acknowledged something, then kill it a random while later.
            let reader = out.fileHandleForReading
            var received = Data()
            while !received.contains(UInt8(ascii: "\n")) {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                received += chunk
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...120, using: &rng)))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "round \(round): the child ended by itself")
            received += reader.readAllRetryingInterrupts()
            // Only complete lines were acknowledged.
            let text = String(decoding: received, as: UTF8.self)
            let complete = text.hasSuffix("\n") ? text : String(text[...(text.lastIndex(of: "\n") ?? text.startIndex)])
            let acked = complete.split(separator: "\n").compactMap { UInt64($0) }
            #expect(!acked.isEmpty, "round \(round): nothing acknowledged")
            totalAcked += acked.count

            let journal = try Journal.open(at: dir.path, options: .reader)
            defer { journal.close() }
            let head = try journal.head()
            #expect(acked.allSatisfy { $0 <= head.revision }, "round \(round): acknowledged \(acked.max() ?? 0) but head is \(head.revision)")
            let report = try journal.verify()
            #expect(report.ok, "round \(round): \(report.problem.map(String.init(describing:)) ?? "")")
            #expect(report.eventsChecked == head.revision)
        }
        #expect(totalAcked > 100)
    }
}
