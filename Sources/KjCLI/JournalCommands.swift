import ArgumentParser
import AuditLog
import ControlPlane
import Foundation
import Journal

/// `kj journal …`: inspect, check, export and import the journal itself.
struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Inspect, verify, export and import a journal.",
        subcommands: [Stat.self, Verify.self, Export.self, Import.self, Reindex.self]
    )

    struct Stat: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a journal's revisions, times, hash and sizes.")

        @OptionGroup var location: JournalLocation
        @Option(name: .shortAndLong, help: "Output format: table or json.") var output: OutputFormat = .table

        func run() throws {
            let journal = try location.openReadOnly()
            defer { journal.close() }
            let s = try journal.stat()
            let out = FileSink.standardOutput()
            if output == .json {
                out.line(try jsonText(s))
                return
            }
            out.line(Self.render(s))
        }

        static func render(_ s: JournalStat) -> String {
            aligned([
                ("Journal", s.path),
                ("Format", "version \(s.formatVersion)"),
                ("Cluster", s.clusterID),
                ("Events", s.events == 0 ? "none" : "\(s.events) (revisions 1–\(s.headRevision))"),
                ("First event", s.firstTime ?? "-"),
                ("Head", s.headTime.map { "revision \(s.headRevision) at \($0)" } ?? "-"),
                ("Head hash", s.headHash),
                ("Snapshots", s.snapshots == 0 ? "none" : "\(s.snapshots) (latest at revision \(s.latestSnapshotRevision ?? 0))"),
                ("Size", "\(formatBytes(s.usedBytes)) in use; map \(formatBytes(s.mapBytes)) of at most \(formatBytes(s.maxMapBytes))"),
                ("Readers", "\(s.readerSlotsInUse) reader slot(s) in use"),
            ])
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain and indexes; exit 1 at the first revision that does not match.",
            discussion: "When everything matches and the journal may be written, its head is recorded as the verified point: the next writable open (kj serve, kj apply …) then verifies only the events after it.")

        @OptionGroup var location: JournalLocation
        @Option(name: .shortAndLong, help: "Output format: table or json.") var output: OutputFormat = .table

        func run() throws {
            let progress = Progress(label: "verifying")
            let report = try Journal.verify(at: location.path) { progress.update($0) }
            progress.finish()
            let out = FileSink.standardOutput()
            if output == .json {
                struct Result: Encodable { var ok: Bool; var eventsChecked: UInt64; var headRevision: UInt64; var headHash: String; var firstBadRevision: UInt64?; var problem: String? }
                out.line(try jsonText(Result(
                    ok: report.ok, eventsChecked: report.eventsChecked, headRevision: report.head.revision,
                    headHash: report.head.hash.hex, firstBadRevision: report.problem?.revision, problem: report.problem?.message)))
            } else if let p = report.problem {
                out.line("FAILED at revision \(p.revision): \(p.message)")
            } else {
                out.line("OK: \(report.eventsChecked) events, chain intact up to revision \(report.head.revision) (hash \(report.head.hash.hex))")
            }
            try out.close()
            if !report.ok { throw ExitCode.failure }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write events as NDJSON, one per line in revision order.",
            discussion: """
                The format is journal/FORMAT.md's; `kj journal import` reads it back and checks the chain.                 With --format audit, the journal's writes are written as kube-apiserver's audit log                 (audit.k8s.io/v1 Events at level RequestResponse) for tools that read audit logs;                 `kj import audit` reads them back.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case journal, audit }

        @OptionGroup var location: JournalLocation
        @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var file: String?
        @Option(help: "journal (the journal's own events) or audit (its writes as audit.k8s.io Events).") var format: Format = .journal
        @Option(help: "First revision to export.") var from: UInt64 = 1
        @Option(help: "Last revision to export (default: the head).") var to: UInt64?

        func run() throws {
            let journal = try location.openReadOnly()
            defer { journal.close() }
            let sink: FileSink
            if let file {
                guard let s = FileSink(creating: file) else { throw CLIError("cannot write \(file)") }
                sink = s
            } else {
                sink = FileSink.standardOutput()
            }
            try journal.read { view in
                let last = try to ?? view.head().revision
                guard from <= last else { return }
                try view.forEach(in: from...last) { e in
                    switch format {
                    case .journal:
                        sink.write(NDJSON.line(for: e))
                        sink.write("\n")
                    case .audit:
                        guard let event = AuditExport.event(for: e) else { break }
                        sink.write(String(decoding: event.serialized(), as: UTF8.self))
                        sink.write("\n")
                    }
                    return true
                }
            }
            try sink.close()
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new journal from NDJSON written by `kj journal export`, checking the hash chain.",
            discussion: "The target must not exist or be an empty directory. Nothing is left behind if any line fails.")

        @OptionGroup var location: JournalLocation
        @Option(name: .shortAndLong, help: ArgumentHelp("The NDJSON file to read ('-' for standard input).", valueName: "file")) var file: String

        func run() async throws {
            let target = (location.path as NSString).standardizingPath
            let result = try await JournalImport.run(from: file, into: target)
            print("imported \(result.revision) events into \(target); head hash \(result.hash.hex)")
        }
    }

    struct Reindex: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the by_object and by_time indexes from the events alone.")

        @OptionGroup var location: JournalLocation

        func run() async throws {
            let journal = try location.openForWriting()
            defer { journal.close() }
            try await journal.reindex()
            let head = try journal.head()
            print("reindexed \(head.revision) events in \(journal.path)")
        }
    }
}

/// `kj journal import`: reads NDJSON into a staging journal beside the target, then renames it into place.
enum JournalImport {
    /// Whether `target` holds a journal (true) or is missing or empty (false); a directory with
    /// anything else in it is refused (`verb`: what would be done into a new one).
    static func holdsJournal(_ target: String, verb: String) throws -> Bool {
        let fm = FileManager.default
        if fm.fileExists(atPath: target + "/data.mdb") { return true }
        if fm.fileExists(atPath: target), !(try fm.contentsOfDirectory(atPath: target)).isEmpty {
            throw CLIError("\(target) is not empty and holds no journal; \(verb) into a new directory")
        }
        return false
    }

    /// Refuses a journal not made from `source` (`ClusterInitialized.importedFrom`) for more of
    /// it, saying `target` "holds a journal that `refusal`".
    static func requireSource(_ source: String, of view: JournalView, at target: String, refusal: String) throws {
        guard try view.event(at: 1).flatMap(ClusterInitialized.from)?.importedFrom == source else {
            throw CLIError("\(target) holds a journal that \(refusal)")
        }
    }

    /// Revision 1 of a journal made from `source`.
    static func initialized(from source: String, seed: UInt64, at time: Timestamp) -> EventDraft {
        let initialized = ClusterInitialized(seed: seed, formatVersion: Int64(Journal.formatVersion), importedFrom: source)
        return EventDraft(time: time, type: ClusterEventType.initialized, actor: .bootstrap, object: ObjectRef(kind: "Cluster", name: "cluster"),
                          data: initialized.json.serialized())
    }

    static func run(from file: String, into target: String) async throws -> Head {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: target, isDirectory: &isDir) {
            let entries = try fm.contentsOfDirectory(atPath: target)
            if !entries.isEmpty {
                if entries.contains("data.mdb"), let existing = try? Journal.open(at: target, options: .reader) {
                    let head = try existing.head()
                    existing.close()
                    throw JournalError(.notEmpty, "\(target) already holds a journal (\(head.revision) events); import into a new directory")
                }
                throw JournalError(.notAJournal, "\(target) is not empty; import into a new directory")
            }
        }
        guard let reader = LineReader(path: file) else { throw CLIError("cannot read \(file)") }
        return try await staged(target) { journal in
            var batch: [Event] = []
            var lineNumber = 0
            while let line = reader.next() {
                lineNumber += 1
                if line.isEmpty { continue }
                do {
                    batch.append(try NDJSON.event(from: line))
                } catch {
                    throw JournalError(.chainMismatch, "\(file), line \(lineNumber): \(error)")
                }
                if batch.count == 10_000 {
                    try await importBatch(batch, into: journal, from: file)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            try await importBatch(batch, into: journal, from: file)
            return try journal.head()
        }
    }

    /// Makes a new journal beside `target` with `fill`, syncs it and renames it into place; if
    /// `fill` fails, nothing remains.
    static func staged<T>(_ target: String, _ fill: (Journal) async throws -> T) async throws -> T {
        let fm = FileManager.default
        let parent = (target as NSString).deletingLastPathComponent
        let staging = (parent.isEmpty ? "." : parent) + "/." + (target as NSString).lastPathComponent + ".importing-\(getpid())"
        try? fm.removeItem(atPath: staging)
        let journal = try Journal.open(at: staging, options: JournalOptions(durability: .noSync))
        do {
            let result = try await fill(journal)
            try journal.sync()
            journal.close()
            if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
            try fm.moveItem(atPath: staging, toPath: target)
            return result
        } catch {
            journal.close()
            try? fm.removeItem(atPath: staging)
            throw error
        }
    }

    private static func importBatch(_ batch: [Event], into journal: Journal, from file: String) async throws {
        do {
            try await journal.importEvents(batch)
        } catch var error as JournalError {
            error.message = "\(file): \(error.message)"
            throw error
        }
    }
}
