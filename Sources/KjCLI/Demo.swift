import ArgumentParser
import Foundation
import Journal

/// `kj demo`: writes a small sample journal and shows what the journal keeps.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a sample journal (one pod's life) and show its stat, chain and events.",
        discussion: "Without --journal the sample goes into a new temporary directory, which is kept and printed.")

    @Option(name: .long, help: ArgumentHelp("Write the sample here (a new or empty directory).", valueName: "dir"))
    var journal: String?

    func run() async throws {
        let path = journal ?? NSTemporaryDirectory() + "kj-demo-\(getpid())"
        let j = try Journal.open(at: path, options: JournalOptions(clusterID: "00000000-0000-4000-8000-00000000d3e0"))
        defer { j.close() }
        guard try j.head().revision == 0 else {
            throw ValidationError("\(path) already holds a journal; give --journal a new directory")
        }
        let events = try await j.append(SampleJournal.podLifecycle())
        let out = FileSink.standardOutput()
        out.line("Wrote \(events.count) events, one pod's life from create to removal, into \(path).\n")
        out.line(JournalCommand.Stat.render(try j.stat()))
        out.line()
        for e in events {
            let cause = e.cause.map { " cause=\($0)" } ?? ""
            out.line("  \(String(e.revision).padding(toLength: 3, withPad: " ", startingAt: 0)) \(e.time.rfc3339Seconds)  \(e.actor.description.padding(toLength: 28, withPad: " ", startingAt: 0)) \(e.type.padding(toLength: 18, withPad: " ", startingAt: 0)) \(e.object)\(cause)")
        }
        let report = try j.verify()
        out.line("\nverify: \(report.ok ? "OK" : "FAILED"), \(report.eventsChecked) events, head hash \(report.head.hash.short)…")
        out.line("Next: kj journal stat --journal \(path); kj journal export --journal \(path)")
    }
}
