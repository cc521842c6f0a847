import APIServer
import ArgumentParser
import ClusterClient
import ClusterModel
import ControlPlane
import Foundation
import Synchronization
import Journal
import Queries

/// `--since`/`--until`: an RFC 3339 time, or a duration before the journal's last event (`5m`, `-5m`).
struct TimeArgument: ExpressibleByArgument {
    enum Value { case time(Timestamp), beforeHead(Int64) }
    let value: Value
    let text: String

    init?(argument: String) {
        text = argument
        if let t = Timestamp(rfc3339: argument) {
            value = .time(t)
        } else if let d = PointInTime.duration(argument.hasPrefix("-") ? String(argument.dropFirst()) : argument) {
            value = .beforeHead(d)
        } else {
            return nil
        }
    }

    func timestamp(in view: JournalView) throws -> Timestamp {
        switch value {
        case .time(let t): return t
        case .beforeHead(let d): return try view.head().time.adding(microseconds: -d)
        }
    }
}

/// One event as `kj events` prints it.
extension EventRecord {
    static let header = "REV     TIME             EVENT                 ACTOR                         OBJECT                                  WHAT"

    var line: String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s.padding(toLength: n, withPad: " ", startingAt: 0) }
        return pad(String(revision), 8) + pad(clockTime(time), 17) + pad(type, 22) + pad(actor, 30) + pad(object, 40) + summary
            + (cause.map { Style.dim("  ← \($0)") } ?? "")
    }
}

/// `kj events`: the journal itself, filtered.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the journal's events, filtered; --follow keeps printing new ones as they are appended.",
        discussion: "Kinds are named as kubectl names them (pod, po, deploy …). With --kind and --name the object index is used; otherwise the journal is scanned from --from/--since.")

    @OptionGroup var location: JournalLocation
    @OptionGroup var remote: RemoteOptions
    @Option(help: "Only events about objects of this kind.") var kind: String?
    @Option(help: "Only events about objects with this name.") var name: String?
    @Option(name: .shortAndLong, help: "Only events about objects in this namespace.") var namespace: String?
    @Option(help: ArgumentHelp("Only events by this actor: alice, user/alice, kubelet, kubelet/node-1.", valueName: "actor")) var actor: String?
    @Option(help: ArgumentHelp("Only events of these types, comma-separated (Created,SchedulingDecided).", valueName: "types")) var type: String?
    @Option(help: ArgumentHelp("From this time, or this long before the last event (5m).", valueName: "time|duration")) var since: TimeArgument?
    @Option(help: ArgumentHelp("Until this time, or this long before the last event.", valueName: "time|duration")) var until: TimeArgument?
    @Option(name: .customLong("from"), help: ArgumentHelp("From this revision.", valueName: "rev")) var fromRevision: UInt64?
    @Option(name: .customLong("to"), help: ArgumentHelp("Up to this revision.", valueName: "rev")) var toRevision: UInt64?
    @Option(help: "Show at most this many (the newest when not following).") var limit: Int?
    @Flag(name: .shortAndLong, help: "Keep printing new events as they are appended (Ctrl-C stops).") var follow = false
    @Option(name: .shortAndLong, help: "Output format: table, json or yaml (json with --follow: one object per line).") var output: ReportFormat = .table

    func run() async throws {
        if try await remote.withClient({ try await runRemote($0) }) != nil { return }
        var filter = EventFilter()
        if let kind {
            guard let k = ResourceKind(resource: kind) else { throw CLIError("unknown kind \"\(kind)\"") }
            filter.kind = k.rawValue
            if k.namespaced, name != nil { filter.namespace = namespace ?? "default" }
        }
        filter.name = name
        if let namespace { filter.namespace = namespace }
        filter.actor = actor
        filter.types = type?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } ?? []
        filter.fromRevision = fromRevision
        filter.toRevision = toRevision
        let journal = try location.openReadOnly()
        defer { journal.close() }
        try journal.read { view in
            filter.since = try since?.timestamp(in: view)
            filter.until = try until?.timestamp(in: view)
        }
        let out = FileSink.standardOutput()
        defer { try? out.close() }
        var rows: [EventRecord] = []
        var last: UInt64 = 0
        func emit(_ row: EventRecord) throws {
            switch output {
            case .table: out.line(row.line)
            case .json where follow: out.line(try compactJSON(row))
            default: rows.append(row)
            }
        }
        // Headers are matched in the journal's memory; only matches are decoded. Without --limit
        // rows stream out as they are found; with it, only the newest `limit` are kept.
        let progress = Progress(label: "reading events")
        if output == .table { out.line(Style.bold(EventRecord.header)) }
        var newest: [Event] = []
        var printed = 0
        try journal.read { view in
            // Following continues after the head this scan saw.
            last = try view.head().revision
            try filter.forEach(in: view) { h in
                if h.revision % 65_536 == 0 { progress.update(h.revision, of: last) }
                guard let e = try view.event(at: h.revision) else { return true }
                if let limit {
                    newest.append(e)
                    if newest.count > 2 * max(limit, 1) { newest.removeFirst(newest.count - limit) }
                } else {
                    try emit(EventRecord(e))
                    printed += 1
                }
                return true
            }
        }
        progress.finish()
        if let limit {
            for e in newest.suffix(limit) { try emit(EventRecord(e)); printed += 1 }
        }
        if !follow {
            if output != .table { out.write(try output == .json ? jsonText(rows) + "\n" : ValueEncoder().encode(rows).yaml()) }
            if printed == 0 { printError("No events match.") }
            return
        }
        out.flush()
        while true {
            usleep(200_000)
            let events = try journal.read { view -> [Event] in
                var found: [Event] = []
                try filter.forEach(in: view, after: last) { h in
                    if let e = try view.event(at: h.revision) { found.append(e) }
                    return true
                }
                last = try max(last, view.head().revision)
                return found
            }
            for e in events { try emit(EventRecord(e)) }
            if !events.isEmpty { out.flush() }
        }
    }
}

extension Events {
    /// The same, from a `kj serve`'s `/kj/v1/events` (a stream of JSON lines with --follow).
    func runRemote(_ client: JournalClient) async throws {
        let path = JournalClient.path("/kj/v1/events", [
            ("kind", kind), ("name", name), ("namespace", namespace), ("actor", actor), ("type", type), ("since", since?.text),
            ("until", until?.text), ("from", fromRevision.map(String.init)), ("to", toRevision.map(String.init)),
            ("limit", limit.map(String.init)), ("follow", follow ? "1" : nil),
        ])
        let output = self.output
        if output == .table { print(Style.bold(EventRecord.header)) }
        guard follow else {
            let records = try await client.fetch([EventRecord].self, path)
            switch output {
            case .table: for r in records { print(r.line) }
            case .json: print(try jsonText(records))
            case .yaml: print(try ValueEncoder().encode(records).yaml(), terminator: "")
            }
            if records.isEmpty { printError("No events match.") }
            return
        }
        try await client.follow(path) { line in
            let bytes = line.serialized()
            guard let record = try? JSONDecoder().decode(EventRecord.self, from: Data(bytes)) else { return }
            switch output {
            case .table: print(record.line)
            case .json: print(String(decoding: bytes, as: UTF8.self))
            case .yaml: print("---\n" + ((try? ValueEncoder().encode(record).yaml()) ?? ""), terminator: "")
            }
            fflush(nil)
        }
    }
}

/// One-line JSON, keys sorted.
func compactJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
