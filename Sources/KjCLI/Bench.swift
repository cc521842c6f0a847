import ArgumentParser
import CLMDBBaseline
import Foundation
import Journal

/// `kj bench …`: the project's performance targets, measured against baselines in the same run.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure performance against baselines in the same run (build with -c release).",
        subcommands: [JournalBench.self, StoreBench.self, SchedulerBench.self, QueriesBench.self, APIBench.self, ReplayBench.self, ImportBench.self]
    )
}

/// `kj bench journal`: durable appends, group commit and scans, against raw liblmdb in C.
struct JournalBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Journal appends (batches of 1, 100, 1000), 64 concurrent appenders and a full scan, against raw liblmdb.",
        discussion: """
            Every figure comes from a fresh journal in a temporary directory (or under --dir), with \
            512-byte records and sync on every commit, as in production. The raw baseline is a C loop \
            over liblmdb with MDB_APPEND, the same record size and the same sync mode.
            """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Scale the number of events (1 = the documented run; 0.05 for a quick check).") var scale: Double = 1
    @Option(help: "Runs of each measurement; the median is reported.") var runs = 3
    @Option(help: ArgumentHelp("Where to create the temporary journals.", valueName: "dir")) var dir: String?

    static let recordBytes = 512
    static let mapBytes = 4 << 30
    /// Benchmark events are about this many pods, in turn (each batch of 1000 touches 1000 of them).
    static let objects = 10_000

    func run() async throws {
        let root = (dir ?? NSTemporaryDirectory()) + "/kj-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        func count(_ n: Int) -> Int { max(64, Int(Double(n) * scale)) }
        var dirs = 0
        func freshDir() throws -> String {
            dirs += 1
            let d = "\(root)/\(dirs)"
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            return d
        }
        func raw(_ rate: Double) throws -> Double {
            guard rate > 0 else { throw CLIError("raw liblmdb baseline failed with LMDB code \(Int(rate))") }
            return rate
        }

        // Measurements alternate between journal and baseline, so drifts of the machine hit both.
        var samples: [String: [Double]] = [:]
        for _ in 0..<max(1, runs) {
            for (batch, total) in [(1, count(3_000)), (100, count(100_000)), (1000, count(300_000))] {
                let rawRate = try raw(kjb_raw_append(try freshDir(), total, Int32(batch), Int32(Self.recordBytes), Self.mapBytes, 0))
                samples["raw_batch\(batch)_per_s", default: []].append(rawRate)
                let (rate, scanned) = try await journalAppends(dir: try freshDir(), batch: batch, total: total, scan: batch == 1000)
                samples["journal_batch\(batch)_per_s", default: []].append(rate)
                if let scanned { samples["scan_per_s", default: []].append(scanned) }
                if batch == 1000 {
                    let indexed = try raw(kjb_raw_indexed_append(
                        try freshDir(), total, Int32(batch), Int32(Self.recordBytes), Self.mapBytes, 0, Int32(Self.objects)))
                    samples["raw_indexed_batch1000_per_s", default: []].append(indexed)
                }
            }
            samples["group64_per_s", default: []].append(
                try await groupCommit(dir: try freshDir(), writers: 64, perWriter: count(19_200) / 64))
        }
        var results = samples.mapValues { $0.sorted()[$0.count / 2] }
        for b in [1, 100, 1000] { results["ratio_batch\(b)"] = results["journal_batch\(b)_per_s"]! / results["raw_batch\(b)_per_s"]! }
        results["ratio_indexed_batch1000"] = results["journal_batch1000_per_s"]! / results["raw_indexed_batch1000_per_s"]!
        results["group64_over_batch1"] = results["group64_per_s"]! / results["journal_batch1_per_s"]!

        if json {
            print(try jsonText(results.mapValues { ($0 * 1000).rounded() / 1000 }))
        } else {
            print(Self.table(results, runs: max(1, runs)))
        }
    }

    /// Appends `total` 512-byte events in batches of `batch`, one after another; optionally then
    /// times a full decoding scan of the journal.
    private func journalAppends(dir: String, batch: Int, total: Int, scan: Bool) async throws -> (Double, Double?) {
        let journal = try Journal.open(at: dir, options: JournalOptions(initialMapSize: Self.mapBytes))
        defer { journal.close() }
        let drafts = (0..<total).map(Self.draft)
        let start = ContinuousClock.now
        var i = 0
        while i < total {
            let end = min(i + batch, total)
            _ = try await journal.append(Array(drafts[i..<end]))
            i = end
        }
        let rate = Double(total) / (ContinuousClock.now - start).seconds
        guard scan else { return (rate, nil) }
        var best = 0.0
        for _ in 0..<3 {
            let scanStart = ContinuousClock.now
            var decoded = 0
            try journal.read { view in
                try view.forEach(in: 1...UInt64(total)) { e in
                    decoded += e.data.count > 0 ? 1 : 0
                    return true
                }
            }
            precondition(decoded == total)
            best = max(best, Double(decoded) / (ContinuousClock.now - scanStart).seconds)
        }
        return (rate, best)
    }

    /// `writers` concurrent tasks each append `perWriter` single events, awaiting each.
    private func groupCommit(dir: String, writers: Int, perWriter: Int) async throws -> Double {
        let journal = try Journal.open(at: dir, options: JournalOptions(initialMapSize: Self.mapBytes))
        defer { journal.close() }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    for i in 0..<perWriter {
                        _ = try await journal.append([Self.draft(w * perWriter + i)])
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(writers * perWriter) / (ContinuousClock.now - start).seconds
    }

    /// The i-th benchmark event: a pod status update whose record is exactly 512 bytes.
    static func draft(_ i: Int) -> EventDraft {
        var d = EventDraft(
            time: Timestamp(seconds: 1_700_000_000).adding(microseconds: Int64(i) * 1000),
            type: "StatusUpdated", actor: Actor(kind: "kubelet", name: "node-\(i % 1000)"),
            object: ObjectRef(kind: "Pod", namespace: "bench", name: "pod-\(i % 10_000)", uid: "00000000-0000-4000-8000-\(String(i % 10_000).leftPadded(12))"),
            cause: UInt64(max(1, i)), data: [])
        d.data = payload(filling: recordBytes - Journal.recordSize(of: d))
        precondition(Journal.recordSize(of: d) == recordBytes, "benchmark record is \(Journal.recordSize(of: d)) bytes")
        return d
    }

    /// A JSON payload that grows the record by `extra` bytes (its own length prefix included).
    private static func payload(filling extra: Int) -> [UInt8] {
        let prefix = Array(#"{"status":{"phase":"Running","message":""#.utf8), suffix = Array(#""}}"#.utf8)
        let fill = extra - prefix.count - suffix.count - (extra > 128 ? 1 : 0)
        return prefix + [UInt8](repeating: UInt8(ascii: "x"), count: max(0, fill)) + suffix
    }

    static func table(_ r: [String: Double], runs: Int) -> String {
        func rate(_ k: String) -> String { r[k].map { String(Int($0)).leftPadded(10, with: " ") + "/s" } ?? "-" }
        func ratio(_ k: String) -> String { r[k].map { String(format: "%.2f", $0) } ?? "-" }
        var lines = ["durable appends of 512-byte events (median of \(runs))   journal     raw liblmdb   journal ÷ raw"]
        for b in [1, 100, 1000] {
            let label = "  batch of \(b)".padding(toLength: 40, withPad: " ", startingAt: 0)
            lines.append("\(label)\(rate("journal_batch\(b)_per_s"))  \(rate("raw_batch\(b)_per_s"))    \(ratio("ratio_batch\(b)"))")
        }
        lines.append("  batch of 1000, raw with the same indexes            \(rate("raw_indexed_batch1000_per_s"))    \(ratio("ratio_indexed_batch1000"))")
        lines.append("64 concurrent single-event appenders    \(rate("group64_per_s"))  (\(ratio("group64_over_batch1"))× batch of 1)")
        lines.append("full scan with decoding                 \(rate("scan_per_s"))")
        return lines.joined(separator: "\n")
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension String {
    func leftPadded(_ width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
