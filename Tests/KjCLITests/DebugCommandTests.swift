import Foundation
import Testing
import TestSupport

/// `kj debug`, piped and on a pseudo-terminal (util-linux's `script`), on a simulated node failure.
@Suite struct DebugCommandTests {
    static func nodeFailure(_ dir: TemporaryDirectory) throws -> String {
        let journal = dir.sub("node-failure")
        let r = try runKJ(["simulate", packageRoot + "/replay/node-failure.yaml", "--journal", journal, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        return journal
    }

    /// A session: a breakpoint on scheduling decisions, three stops, `why` at the third, back 3,
    /// diff, reverse-continue to the first, where.
    static let session = [
        "break type=SchedulingDecided", "continue", "continue", "continue", "why pod/web-vl6wpk9zjd-h2gtl", "back 3", "diff",
        "reverse-continue", "where", "info breakpoints", "quit",
    ]

    /// Runs `commands` in `kj debug` on a pseudo-terminal; returns what the terminal showed, without
    /// carriage returns.
    static func onTerminal(_ journal: String, _ input: String) throws -> String {
        let dir = TemporaryDirectory()
        let file = dir.sub("input")
        try input.write(toFile: file, atomically: true, encoding: .utf8)
        // The input arrives as typed; the pause lets the last answers reach the terminal before it closes.
        let command = "(cat '\(file)'; sleep 2) | script -qec \"'\(kjExecutable)' debug --journal '\(journal)'\" /dev/null"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1", "TERM": "xterm"]) { $1 }
        let out = ChildProcesses.pipe()
        p.standardOutput = out
        p.standardInput = FileHandle.nullDevice
        try ChildProcesses.start(p)
        let data = out.fileHandleForReading.readAllRetryingInterrupts()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r", with: "")
    }

    @Test(.timeLimit(.minutes(10)))
    func aPipedSessionStopsAtBreakpointsAndTravelsBack() throws {
        let dir = TemporaryDirectory()
        let journal = try Self.nodeFailure(dir)
        let r = try runKJ(["debug", "--journal", journal], stdin: Data((Self.session.joined(separator: "\n") + "\n").utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        // Starts at revision 1; the first continue stops at the first scheduling decision, the second at the next.
        #expect(lines.first?.hasPrefix("→ 1  ") == true, "\(lines.first ?? "")")
        let stops = lines.indices.filter { lines[$0].hasPrefix("Breakpoint 1 (type=SchedulingDecided):") }.map { lines[$0 + 1] }
        #expect(stops.count == 4, "\(r.stdout)")
        #expect(stops.map { $0.split(separator: " ")[1] } == ["43", "46", "49", "43"], "\(stops)")
        #expect(stops[1].contains("web-vl6wpk9zjd-zrrk5") && stops[2].contains("web-vl6wpk9zjd-h2gtl"), "\(stops)")
        // why at the third stop: the decision there, with its score table.
        #expect(r.stdout.contains("Scheduling decision at revision 49"))
        // back 3 lands at 46; diff compares 49 with 46; reverse-continue goes back to the break at 43.
        #expect(lines.contains { $0.hasPrefix("→ 46  ") && $0.contains("SchedulingDecided") })
        #expect(r.stdout.contains("Changes from revision 46 to 49: "))
        // where names the chain back to alice's Deployment.
        #expect(r.stdout.contains("Revision 43 of 267"))
        #expect(r.stdout.contains("Created  user/alice  Deployment/default/web"))
        #expect(r.stdout.contains("1     type=SchedulingDecided"))
    }

    @Test(.timeLimit(.minutes(10)))
    func reverseContinueGoesBackToThePreviousStop() throws {
        let dir = TemporaryDirectory()
        let journal = try Self.nodeFailure(dir)
        let r = try runKJ(["debug", "--journal", journal, "--at", "100"], stdin: Data("break type=SchedulingDecided\nreverse-continue\nbreak actor=node-lifecycle\ncontinue\nnext\nprev\ngoto +5m\nbogus\n".utf8))
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("→ 100  ") == true)
        let stops = lines.indices.filter { lines[$0].hasPrefix("Breakpoint") && lines[$0].hasSuffix("):") }.map { lines[$0 + 1] }
        #expect(stops.count == 2, "\(r.stdout)")
        #expect(stops[0].contains("SchedulingDecided") && !stops[0].hasPrefix("→ 1"), "the decision before 100: \(stops)")
        #expect(stops[1].contains("NodeLifecycleDecided"), "\(stops)")
        #expect(r.stdout.contains("Unknown command \"bogus\". Try \"help\"."))
    }

    @Test(.timeLimit(.minutes(10)))
    func onATerminalTheSameCommandsGiveTheSameAnswers() throws {
        let dir = TemporaryDirectory()
        let journal = try Self.nodeFailure(dir)
        let piped = try runKJ(["debug", "--journal", journal], stdin: Data((Self.session.joined(separator: "\n") + "\n").utf8)).stdout
        let shown = try Self.onTerminal(journal, Self.session.joined(separator: "\n") + "\n")
        #expect(shown.contains("(kj) "), "the terminal shows the prompt: \(shown)")
        for line in piped.split(separator: "\n") where !line.isEmpty {
            #expect(shown.contains(line), "missing on the terminal: \(line)")
        }
    }

    @Test(.timeLimit(.minutes(10)))
    func theUpArrowRecallsTheLastCommand() throws {
        let dir = TemporaryDirectory()
        let journal = try Self.nodeFailure(dir)
        let shown = try Self.onTerminal(journal, "step\n\u{1B}[A\nquit\n")
        #expect(shown.contains("→ 2  "), "\(shown)")
        #expect(shown.contains("→ 3  "), "the recalled step moved again: \(shown)")
    }

    /// `follow` waits at the head of a journal another process is writing, and stops at the new
    /// event a breakpoint names.
    @Test(.timeLimit(.minutes(10)))
    func followStopsAtANewEventAnotherWriterAppends() throws {
        let dir = TemporaryDirectory()
        let journal = dir.sub("pod-create")
        #expect(try runKJ(["simulate", packageRoot + "/replay/pod-create.yaml", "--journal", journal, "--quiet"]).status == 0)
        let manifest = dir.sub("late.yaml")
        try "apiVersion: v1\nkind: Pod\nmetadata: {name: late}\nspec: {containers: [{name: c, image: nginx}]}\n".write(toFile: manifest, atomically: true, encoding: .utf8)
        // The debugger waits at the head; a second later another process appends the pod.
        let script = """
            (printf 'goto head\\nbreak pod/late\\nfollow\\n'; sleep 4; printf 'where\\nquit\\n') | '\(kjExecutable)' debug --journal '\(journal)' &
            sleep 1
            '\(kjExecutable)' apply -f '\(manifest)' --journal '\(journal)' --as carol > /dev/null
            wait
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        p.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 }
        let out = ChildProcesses.pipe()
        p.standardOutput = out
        try ChildProcesses.start(p)
        let shown = String(decoding: out.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
        p.waitUntilExit()
        #expect(shown.contains("Breakpoint 1 (events about Pod/default/late):"), "\(shown)")
        #expect(shown.contains("Created  user/carol  Pod/default/late"), "\(shown)")
        #expect(shown.contains("Revision 62 of 62"), "\(shown)")
    }
}
