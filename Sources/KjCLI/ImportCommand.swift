import ArgumentParser
import AuditLog
import ControlPlane
import Foundation
import Journal

/// `kj import`: records kept by other systems, as journals.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn records of a real cluster into a journal.",
        subcommands: [Audit.self])

    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import Kubernetes audit logs (audit.k8s.io v1 and v1beta1) into a journal.",
            discussion: """
                Reads kube-apiserver's audit log files: JSON lines, gzip-compressed or not, or a single \
                JSON or YAML event; '-' reads standard input. Every request that changed an object \
                becomes a write event by the actor its user names (the scheduler, a controller by its \
                service account, a node's kubelet, or a user), at the time kube-apiserver finished it; \
                a refused request becomes a RequestRefused event, which changes nothing; reads are \
                counted and left out. Files are streamed in the order given (rotated logs oldest \
                first); requests are put in time order through a window of --window requests. An \
                object the log holds only in part (levels Request and Metadata) says so in its annotation audit.kubejournal.io/content. \
                A new journal is marked as imported. Importing into a journal imported before adds \
                only requests it does not hold (by auditID) and not older than its last event. \
                Nothing is written if any file fails to read: the error names the file and line.
                """)

        @OptionGroup var location: JournalLocation
        @Option(help: ArgumentHelp("How many requests are held to be put in time order; a line further out of order is journalled late (and counted).",
                                   valueName: "requests")) var window = AuditImport.defaultWindow
        @Argument(help: ArgumentHelp("Audit log files ('-' for standard input).", valueName: "file")) var files: [String]

        func validate() throws {
            guard window >= 1 else { throw ValidationError("--window must be at least 1") }
        }

        func run() async throws {
            guard !files.isEmpty else { throw ValidationError("name at least one audit log file") }
            var logs: [AuditLogFile] = []
            for file in files { logs.append(try AuditLogFile(path: file)) }
            let target = (location.path as NSString).standardizingPath
            let summary = try await AuditJournal.importing(logs, into: target, window: window)
            print(Self.describe(summary, into: target, window: window))
        }

        static func describe(_ s: AuditImport.Summary, into target: String, window: Int) -> String {
            var lines = ["\(s.auditEvents) audit event(s) from \(s.files) file(s) into \(target):"]
            lines.append("  \(s.writes) write(s) journalled (\(s.incomplete) with only part of the object), \(s.refused) refused request(s)")
            lines.append("  \(s.reads) read(s) and other requests that change no object left out; \(s.foldedStages) further stage(s) of a request folded")
            if s.unfinished > 0 { lines.append("  \(s.unfinished) request(s) logged only as received (no response): their outcome is unknown, left out") }
            if s.late > 0 {
                lines.append("  \(s.late) request(s) further out of time order than the window of \(window) requests: journalled late (a larger --window orders them)")
            }
            if s.alreadyImported + s.older > 0 {
                lines.append("  \(s.alreadyImported) request(s) already in the journal, \(s.older) older than its last event: skipped")
            }
            if !s.unmodelledKinds.isEmpty {
                lines.append("  kinds journalled but not modelled (no kj get/describe): \(s.unmodelledKinds.sorted().joined(separator: ", "))")
            }
            return lines.joined(separator: "\n")
        }
    }
}

/// Writes an audit log's events into a journal, all or nothing: a new journal is made beside the
/// target and renamed into place; for an existing imported journal every file is read through
/// before any of it is written.
enum AuditJournal {
    static let source = JournalSource.auditLog

    static func importing(_ logs: [AuditLogFile], into target: String, window: Int = AuditImport.defaultWindow) async throws -> AuditImport.Summary {
        if try JournalImport.holdsJournal(target, verb: "import") {
            let journal = try Journal.open(at: target)
            defer { journal.close() }
            var importer = try journal.read { view -> AuditImport in
                try JournalImport.requireSource(source, of: view, at: target, refusal: "was not imported from audit logs; import into a new directory")
                return try AuditImport(after: view, window: window)
            }
            // All or nothing: every file is read through before anything is written.
            for log in logs { try log.read { _ in } }
            try stream(logs, into: &importer) { _ = try journal.appendSynchronously($0) }
            return importer.summary
        }
        return try await JournalImport.staged(target) { journal in
            var importer = try AuditImport(after: nil, window: window)
            var started = false
            /// The journal starts with the first request: its time, and a seed from its audit ID.
            func start(_ first: EventDraft?) throws {
                guard !started else { return }
                started = true
                _ = try journal.appendSynchronously([JournalImport.initialized(from: source, seed: seed(first?.request), at: first?.time ?? Timestamp(microseconds: 0))])
            }
            try stream(logs, into: &importer) { drafts in
                try start(drafts.first)
                _ = try journal.appendSynchronously(drafts)
            }
            try start(nil)
            return importer.summary
        }
    }

    /// The logs' requests through `importer`, written a batch at a time.
    static func stream(_ logs: [AuditLogFile], into importer: inout AuditImport, _ write: ([EventDraft]) throws -> Void) throws {
        for log in logs { try importer.read(log, drain: write) }
        importer.finish()
        let rest = importer.takeDrafts()
        if !rest.isEmpty { try write(rest) }
    }

    /// A seed from the first request's audit ID (FNV-1a), so that importing the same log twice
    /// makes the same journal.
    static func seed(_ auditID: String?) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in (auditID ?? "").utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h | 1
    }
}
