import Foundation
import Journal
import Testing
import TestSupport

@testable import KjCLI

@Suite struct JournalCommandTests {
    static let golden = packageRoot + "/journal/golden/v1.ndjson"

    @Test func theGoldenJournalImportsVerifiesAndExportsByteForByte() throws {
        let dir = TemporaryDirectory()
        let target = dir.sub("imported")
        let imported = try runKJ(["journal", "import", "-f", Self.golden, "--journal", target])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("imported 11 events"))

        let verified = try runKJ(["journal", "verify", "--journal", target])
        #expect(verified.status == 0)
        #expect(verified.stdout.hasPrefix("OK: 11 events"))

        let exported = try runKJ(["journal", "export", "--journal", target])
        #expect(exported.stdout == (try String(contentsOfFile: Self.golden, encoding: .utf8)))
    }

    @Test func importRefusesABrokenChainAndLeavesNothingBehind() throws {
        let dir = TemporaryDirectory()
        var lines = try String(contentsOfFile: Self.golden, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[6] = lines[6].replacingOccurrences(of: "\"phase\":\"Running\"", with: "\"phase\":\"Failed\"")
        let bad = dir.sub("bad.ndjson")
        try (lines.joined(separator: "\n") + "\n").write(toFile: bad, atomically: true, encoding: .utf8)
        let target = dir.sub("journal")
        let result = try runKJ(["journal", "import", "-f", bad, "--journal", target])
        #expect(result.status == 1)
        #expect(result.stderr.contains("imported event 7 has hash"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["bad.ndjson"])
    }

    @Test func importRefusesMalformedLinesWithTheirLineNumber() throws {
        let dir = TemporaryDirectory()
        let bad = dir.sub("bad.ndjson")
        let first = try String(contentsOfFile: Self.golden, encoding: .utf8).split(separator: "\n")[0]
        try (first + "\n{\"rev\":2,\"time\":\"yesterday\"}\n").write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try runKJ(["journal", "import", "-f", bad, "--journal", dir.sub("j")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("line 2"), "\(result.stderr)")
    }

    @Test func importRefusesAJournalThatAlreadyHasEvents() throws {
        let dir = TemporaryDirectory()
        let target = dir.sub("j")
        #expect(try runKJ(["journal", "import", "-f", Self.golden, "--journal", target]).status == 0)
        let again = try runKJ(["journal", "import", "-f", Self.golden, "--journal", target])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already holds a journal (11 events)"))
    }

    @Test func verifyExitsNonZeroAndNamesTheFirstBadRevision() async throws {
        let dir = TemporaryDirectory()
        let target = dir.sub("j")
        #expect(try runKJ(["journal", "import", "-f", Self.golden, "--journal", target]).status == 0)
        // Flip one byte inside revision 5's payload, in the data file itself.
        let dataFile = target + "/data.mdb"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dataFile))
        let needle = Data(#""spec":{"nodeName":"node-2"}"#.utf8)
        let range = try #require(bytes.range(of: needle))
        bytes[range.lowerBound + 9] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: dataFile))

        let result = try runKJ(["journal", "verify", "--journal", target])
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAILED at revision 5: hash mismatch"), "\(result.stdout)")
        let json = try runKJ(["journal", "verify", "--journal", target, "-o", "json"])
        #expect(json.status == 1)
        #expect(json.stdout.contains("\"firstBadRevision\": 5"))
    }

    @Test func exportHonoursARevisionRangeAndAFile() throws {
        let dir = TemporaryDirectory()
        let target = dir.sub("j")
        #expect(try runKJ(["journal", "import", "-f", Self.golden, "--journal", target]).status == 0)
        let out = dir.sub("part.ndjson")
        #expect(try runKJ(["journal", "export", "--journal", target, "--from", "3", "--to", "5", "-f", out]).status == 0)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("{\"rev\":3,"))
        #expect(lines[2].hasPrefix("{\"rev\":5,"))
    }

    @Test func statShowsHeadAndCounts() throws {
        let dir = TemporaryDirectory()
        let target = dir.sub("j")
        #expect(try runKJ(["journal", "import", "-f", Self.golden, "--journal", target]).status == 0)
        let table = try runKJ(["journal", "stat", "--journal", target])
        #expect(table.stdout.contains("Events:      11 (revisions 1–11)"))
        #expect(table.stdout.contains("Head:        revision 11 at 2026-01-01T10:05:01.300000Z"))
        let json = try runKJ(["journal", "stat", "--journal", target, "-o", "json"])
        let stat = try JSONDecoder().decode(JournalStat.self, from: Data(json.stdout.utf8))
        #expect(stat.events == 11)
        #expect(stat.indexedObjectEntries == 11)
    }

    @Test func errorsAreOneReadableLineWithNonZeroExit() throws {
        let dir = TemporaryDirectory()
        let missing = try runKJ(["journal", "stat", "--journal", dir.sub("nothing")])
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error: no journal at \(dir.sub("nothing"))\n")
    }

    @Test func theDefaultJournalFollowsTheEnvironment() {
        #expect(JournalLocation.defaultPath(environment: ["KJ_JOURNAL": "/j", "HOME": "/h"]) == "/j")
        #expect(JournalLocation.defaultPath(environment: ["XDG_DATA_HOME": "/x", "HOME": "/h"]) == "/x/kubejournal/journal")
        #expect(JournalLocation.defaultPath(environment: ["XDG_DATA_HOME": "", "HOME": "/h"]) == "/h/.local/share/kubejournal/journal")
        #expect(JournalLocation.defaultPath(environment: ["KJ_JOURNAL": "", "HOME": "/h"]) == "/h/.local/share/kubejournal/journal")
    }

    @Test func everyJournalCommandTakesJournal() throws {
        for sub in ["stat", "verify", "export", "reindex"] {
            let cmd = try Kj.parseAsRoot(["journal", sub, "--journal", "/somewhere"])
            let location = Mirror(reflecting: cmd).children.first { $0.label == "_location" }
            #expect(location != nil, "\(sub) has no --journal")
        }
        #expect(throws: (any Error).self) { try Kj.parseAsRoot(["journal", "import", "--journal", "/x"]) }  // -f is required
    }

    @Test func theDefaultJournalIsUsedWithoutJournal() throws {
        let dir = TemporaryDirectory()
        var env = ProcessInfo.processInfo.environment
        env["KJ_JOURNAL"] = dir.sub("fromenv")
        #expect(try runKJ(["journal", "import", "-f", Self.golden], environment: env).status == 0)
        #expect(try runKJ(["journal", "stat"], environment: env).stdout.contains(dir.sub("fromenv")))
    }

    @Test func benchJournalReportsEveryKey() throws {
        let result = try runKJ(["bench", "journal", "--json", "--scale", "0.002", "--runs", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let figures = try JSONDecoder().decode([String: Double].self, from: Data(result.stdout.utf8))
        for key in ["journal_batch1_per_s", "journal_batch100_per_s", "journal_batch1000_per_s", "raw_batch1000_per_s",
                    "ratio_batch1000", "raw_indexed_batch1000_per_s", "ratio_indexed_batch1000", "group64_per_s", "scan_per_s"] {
            #expect((figures[key] ?? 0) > 0, "\(key) missing")
        }
    }

    @Test func theDemoTellsAPodsLifeAndAReplacementsWhy() throws {
        let dir = TemporaryDirectory()
        let result = try runKJ(["demo", "--journal", dir.sub("demo")])
        #expect(result.status == 0, "\(result.stderr)")
        for fact in ["$ kj history pod/nginx", "pod nginx bound to node-2", "Event Normal Started on nginx", "pod status: Running, Ready",
                     "node-lifecycle: mark-unreachable", "node-lifecycle: evict", "replicaset: create 1", "Tie-break: 2 nodes shared the best total"] {
            #expect(result.stdout.contains(fact), "the demo does not say \(fact)")
        }
        for journal in ["pod-create", "node-failure"] {
            #expect(try runKJ(["journal", "verify", "--journal", dir.sub("demo") + "/" + journal]).status == 0)
        }
        // A second run into the same place is refused and changes nothing.
        let again = try runKJ(["demo", "--journal", dir.sub("demo")])
        #expect(again.status != 0 && again.stderr.contains("is not empty"))
    }

    @Test func theDemosScenariosAreTheOnesInReplay() throws {
        let podCreate = try String(contentsOfFile: packageRoot + "/replay/pod-create.yaml", encoding: .utf8)
        let nodeFailure = try String(contentsOfFile: packageRoot + "/replay/node-failure.yaml", encoding: .utf8)
        let embedded = try String(contentsOfFile: packageRoot + "/Sources/KjCLI/DemoScenarios.swift", encoding: .utf8)
        #expect(embedded.contains("static let podCreate = #\"\"\"\n" + podCreate + "\"\"\"#"))
        #expect(embedded.contains("static let nodeFailure = #\"\"\"\n" + nodeFailure + "\"\"\"#"))
    }
}

@Suite struct SchemaTests {
    func validate(_ file: String) throws -> ProcessResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", packageRoot + "/journal/schema/validate.py", file]
        let out = ChildProcesses.pipe()
        p.standardOutput = out
        try ChildProcesses.start(p)
        let text = String(decoding: out.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
        p.waitUntilExit()
        return ProcessResult(status: p.terminationStatus, stdout: text, stderr: "")
    }

    @Test func exportsMatchTheEventSchema() throws {
        #expect(try validate(JournalCommandTests.golden).status == 0)
        // A larger journal written and exported by kj.
        let dir = TemporaryDirectory()
        let journal = dir.sub("j")
        #expect(try runKJ(["dev", "append-loop", "--journal", journal, "--writers", "2", "--count", "20", "--no-sync"]).status == 0)
        let export = dir.sub("all.ndjson")
        #expect(try runKJ(["journal", "export", "--journal", journal, "-f", export]).status == 0)
        let result = try validate(export)
        #expect(result.status == 0, "\(result.stdout)")
    }

    /// Every decision type's data has a schema: a simulated incident's export matches them, and a
    /// decision without its required fields does not.
    @Test func decisionsMatchTheirTypesSchemas() throws {
        let dir = TemporaryDirectory()
        let journal = dir.sub("nf")
        #expect(try runKJ(["simulate", packageRoot + "/replay/node-failure.yaml", "--journal", journal, "--quiet"]).status == 0)
        let export = dir.sub("nf.ndjson")
        #expect(try runKJ(["journal", "export", "--journal", journal, "-f", export]).status == 0)
        let result = try validate(export)
        #expect(result.status == 0, "\(result.stdout)")
        let text = try String(contentsOfFile: export, encoding: .utf8)
        let decision = try #require(text.split(separator: "\n").first { $0.contains("\"type\":\"SchedulingDecided\"") })
        let broken = dir.sub("broken.ndjson")
        try (decision.replacingOccurrences(of: "\"outcome\":", with: "\"result\":") + "\n").write(toFile: broken, atomically: true, encoding: .utf8)
        let refused = try validate(broken)
        #expect(refused.status == 1 && refused.stdout.contains("outcome"), "\(refused.stdout)")
    }

    @Test func theSchemaRefusesWhatTheFormatForbids() throws {
        let dir = TemporaryDirectory()
        let bad = dir.sub("bad.ndjson")
        let line = try String(contentsOfFile: JournalCommandTests.golden, encoding: .utf8).split(separator: "\n")[0]
        let broken = line.replacingOccurrences(of: "\"rev\":1,", with: "\"rev\":0,\"extra\":true,")
        try (broken + "\n").write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try validate(bad)
        #expect(result.status == 1)
        #expect(result.stdout.contains("bad.ndjson:1"))
    }
}

@Suite struct CLIReferenceTests {
    @Test func docsCLIMatchesEveryCommandsHelp() throws {
        let committed = try String(contentsOfFile: packageRoot + "/docs/cli.md", encoding: .utf8)
        #expect(committed == CLIReference.markdown(), "docs/cli.md is stale: run `swift run kj dev cli-reference > docs/cli.md`")
        for (path, _) in CLIReference.visible(Kj.self, path: ["kj"]) {
            #expect(committed.contains("\n## \(path.joined(separator: " "))\n"))
        }
    }
}
