import Foundation
import Testing
import TestSupport

/// Documents generated from real kj output must be what their generators print today.
@Suite struct DocsTests {
    @Test func podLifecycleMatchesItsScript() throws {
        let dir = TemporaryDirectory("kj-docs-test")
        let result = try runToFiles("/usr/bin/env", ["bash", packageRoot + "/scripts/pod-lifecycle.sh", kjExecutable], in: dir)
        try #require(result.status == 0, "scripts/pod-lifecycle.sh failed: \(result.stderr)")
        let committed = try String(contentsOfFile: packageRoot + "/docs/pod-lifecycle.md", encoding: .utf8)
        // A Bool, so that a failure prints the message below rather than both documents whole.
        let upToDate = committed == result.stdout
        #expect(upToDate, """
            docs/pod-lifecycle.md is stale (\(Self.firstDifference(committed, result.stdout))): \
            run `scripts/pod-lifecycle.sh > docs/pod-lifecycle.md`
            """)
    }

    /// Runs a program with its output in files (no pipe to fill up), to completion.
    func runToFiles(_ executable: String, _ arguments: [String], in dir: TemporaryDirectory) throws -> ProcessResult {
        let outPath = dir.sub("stdout"), errPath = dir.sub("stderr")
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try ChildProcesses.start(p)
        p.waitUntilExit()
        try out.close()
        try err.close()
        return ProcessResult(
            status: p.terminationStatus, stdout: try String(contentsOfFile: outPath, encoding: .utf8),
            stderr: try String(contentsOfFile: errPath, encoding: .utf8))
    }

    /// `line 12 differs: "…" vs "…"`, to say where a stale document went wrong.
    static func firstDifference(_ committed: String, _ generated: String) -> String {
        let a = committed.components(separatedBy: "\n"), b = generated.components(separatedBy: "\n")
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : "<end of file>", y = i < b.count ? b[i] : "<end of output>"
            if x != y { return "line \(i + 1) is \"\(x)\" in the file, \"\(y)\" in the script's output" }
        }
        return "no line differs"
    }
}
