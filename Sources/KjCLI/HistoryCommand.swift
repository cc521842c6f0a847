import APIServer
import ArgumentParser
import ClusterClient
import ClusterModel
import Foundation
import Journal
import Queries

enum HistoryFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, yaml, mermaid
}

/// `kj history KIND/NAME`: an object's whole life.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The whole life of an object: every event about it, the decisions behind them, and what they led to.",
        discussion: """
            Rows marked ↑ are the decisions or requests that caused one of the object's events; rows \
            marked → are what its events led to elsewhere (the endpoints controller removing a \
            terminating pod, a core Event). Under each write, its field-level changes. A name that \
            was reused has several incarnations: the newest is shown unless --uid picks another. \
            -o mermaid prints a sequence diagram for any Markdown viewer.
            """)

    @OptionGroup var location: JournalLocation
    @OptionGroup var remote: RemoteOptions
    @Argument(help: ObjectName.help) var object: ObjectName
    @Option(name: .shortAndLong, help: "The namespace (default: default).") var namespace: String?
    @Option(help: "Show the incarnation with this uid.") var uid: String?
    @Option(parsing: .unconditional, help: PointInTime.help) var at: PointInTime?
    @Option(name: .shortAndLong, help: "Output format: table, json, yaml or mermaid.") var output: HistoryFormat = .table

    func run() async throws {
        let history: ObjectHistory
        let key = object.key(namespace: namespace)
        if let fetched = try await remote.fetch(ObjectHistory.self, JournalClient.path(
            "/kj/v1/history/\(object.kind.plural)/\(key.namespace.isEmpty ? "_" : key.namespace)/\(key.name)", [("at", at?.text), ("uid", uid)])) {
            history = fetched
        } else {
            let journal = try location.openReadOnly()
            defer { journal.close() }
            history = try journal.read { view in
                try ObjectHistory.load(object.key(namespace: namespace), uid: uid, until: try at?.revision(in: view), in: view)
            }
        }
        switch output {
        case .table: print(Self.render(history), terminator: "")
        case .json: try printData(history, as: .json)
        case .yaml: try printData(history, as: .yaml)
        case .mermaid: print(Mermaid.sequence(history), terminator: "")
        }
    }

    static func render(_ h: ObjectHistory) -> String {
        let name = h.namespace.isEmpty ? h.name : "\(h.namespace)/\(h.name)"
        var out = Style.bold("\(h.kind.lowercased()) \(name)") + (h.uid.isEmpty ? "  uid unknown (its record does not say)" : "  uid \(h.uid)")
        if h.incarnations.count > 1 { out += "  (incarnation \((h.incarnations.firstIndex(of: h.uid) ?? 0) + 1) of \(h.incarnations.count); --uid picks another)" }
        let first = h.entries.first?.time ?? "", last = h.entries.last?.time ?? ""
        out += "\n\(h.entries.count) events from \(first) to \(last) (times below are UTC)\n\n"
        return out + HistoryTable.render(h.entries, showObject: false)
    }
}

/// Sequence diagrams of histories, in Mermaid syntax.
enum Mermaid {
    /// Participants: the actors (user, scheduler, controllers, kubelets), the API server and the
    /// journal. A write goes actor → api-server → journal; a decision is appended the same way.
    static func sequence(_ h: ObjectHistory) -> String {
        var out = "sequenceDiagram\n"
        var participants: [String] = []
        func participant(_ actor: String) -> String {
            let kind = actor.split(separator: "/").first.map(String.init) ?? actor
            let id: String
            switch kind {
            case "user": id = "user"
            case "scheduler": id = "scheduler"
            case "controller": id = "controller"
            case "kubelet": id = "kubelet"
            default: id = kind.replacingOccurrences(of: "-", with: "_")
            }
            return id
        }
        let order = ["user", "api-server", "journal", "scheduler", "controller", "kubelet"]
        let used = Set(h.entries.map { participant($0.actor) })
        for p in order where p == "api-server" || p == "journal" || used.contains(p) { participants.append(p) }
        for p in used.sorted() where !participants.contains(p) { participants.append(p) }
        for p in participants { out += "    participant \(p == "api-server" ? "api as api-server" : p)\n" }
        for e in h.entries {
            let from = participant(e.actor)
            let who = e.actor.split(separator: "/").dropFirst().joined(separator: "/")
            let text = escape("\(who): \(e.summary)")
            out += "    \(from)->>api: \(text)\n"
            out += "    api->>journal: rev \(e.revision) \(e.type)\(e.cause.map { " (cause \($0))" } ?? "")\n"
        }
        return out
    }

    /// Mermaid messages end at a newline and treat `;` and `#` specially.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: ";", with: ",").replacingOccurrences(of: "#", with: "№").replacingOccurrences(of: "\n", with: " ")
    }
}
