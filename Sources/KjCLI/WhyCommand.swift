import APIServer
import ArgumentParser
import ClusterClient
import ClusterModel
import ControlPlane
import Foundation
import Journal
import Queries
import Scheduler

/// `kj why pod/NAME`: why a pod is where it is, or why it is nowhere.
struct Why: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain why a pod is on its node, why it is still pending, or how it ended; or how any other object came to be.",
        discussion: """
            Placed: the node, the chain of causes back to the request that started it, which nodes \
            were filtered out and why, and the score table of the best candidates. Pending: the \
            scheduler's message and what would make the pod schedulable. Gone: where it ran and who \
            ended it. --full re-runs the scheduler on the state the decision observed and prints \
            every node; --not NODE explains why that node was not chosen. For other kinds \
            (configmap/NAME, serviceaccount/default, statefulset/web …): who created the object and \
            the chain of causes behind that, and behind its latest change or its removal.
            """)

    @OptionGroup var location: JournalLocation
    @OptionGroup var remote: RemoteOptions
    @Argument(help: ArgumentHelp("The pod, as pod/name (or just its name); or any object as kind/name.", valueName: "kind/name")) var target: String
    @Option(name: .shortAndLong, help: "The namespace (default: default).") var namespace: String?
    @Option(parsing: .unconditional, help: PointInTime.help) var at: PointInTime?
    @Flag(help: "Re-run the scheduler on the observed state: every node's verdict and score, and whether it agrees.") var full = false
    @Option(name: .customLong("not"), help: ArgumentHelp("Explain why this node was not chosen.", valueName: "node")) var notNode: String?
    @Option(name: .shortAndLong, help: "Output format: table, json or yaml.") var output: ReportFormat = .table

    func run() async throws {
        if let (kind, name) = try Self.otherKind(target) { return try await explainObject(kind, name) }
        let name = try Self.podName(target)
        let explanation: PodExplanation
        if let fetched = try await remote.fetch(PodExplanation.self, JournalClient.path(
            "/kj/v1/why/\(namespace ?? "default")/\(name)", [("at", at?.text), ("full", full ? "1" : nil), ("not", notNode)])) {
            explanation = fetched
        } else {
            let journal = try location.openReadOnly()
            defer { journal.close() }
            explanation = try journal.read { view in
                try PodExplanation.explain(namespace: namespace ?? "default", name: name, at: try at?.revision(in: view),
                                           full: full, notNode: notNode, in: view)
            }
        }
        if output == .table { print(Self.render(explanation), terminator: "") } else { try printData(explanation, as: output) }
    }

    /// The kind and name of a target of another kind than Pod (`configmap/app`), if it is one.
    static func otherKind(_ target: String) throws -> (ResourceKind, String)? {
        guard let slash = target.firstIndex(of: "/") else { return nil }
        let kindName = String(target[..<slash])
        guard let kind = ResourceKind(resource: kindName) else { throw CLIError("the server doesn't have a resource type \"\(kindName)\"") }
        return kind == .pod ? nil : (kind, String(target[target.index(after: slash)...]))
    }

    /// `kj why KIND/NAME` for a kind other than Pod: how the object came to be, and its latest change.
    func explainObject(_ kind: ResourceKind, _ name: String) async throws {
        let ns = kind.namespaced ? (namespace ?? "default") : ""
        let key = ObjectKey(kind: kind.rawValue, namespace: ns, name: name)
        let explanation: ObjectExplanation
        if let fetched = try await remote.fetch(ObjectExplanation.self, JournalClient.path(
            "/kj/v1/why/\(kind.plural)/\(kind.namespaced ? ns : "_")/\(name)", [("at", at?.text)])) {
            explanation = fetched
        } else {
            let journal = try location.openReadOnly()
            defer { journal.close() }
            explanation = try journal.read { view in try ObjectExplanation.explain(key, at: try at?.revision(in: view), in: view) }
        }
        if output == .table { print(Self.render(explanation, kind: kind), terminator: "") } else { try printData(explanation, as: output) }
    }

    static func render(_ x: ObjectExplanation, kind: ResourceKind) -> String {
        var out = ""
        func line(_ s: String = "") { out += s + "\n" }
        let what = Style.bold("\(kind.singular) \(x.object)")
        switch x.status {
        case .exists:
            line("\(what) exists as of revision \(x.at.revision): created at revision \(x.created.revision) (\(x.created.time)) by \(x.createdBy).")
        case .gone:
            line("\(what) is \(Style.red("gone")): removed at revision \(x.latest?.revision ?? 0) (\(x.latest?.time ?? "")) by \(x.latestBy ?? "?").")
        }
        line()
        line(Style.bold("How it came to be") + " (oldest first; CAUSE: what each write carried out, (N): what triggered a decision):")
        out += HistoryTable.render(x.creation, showObject: true, indent: "  ")
        if let latest = x.latest, let causes = x.latestCauses, x.status == .exists {
            line()
            line(Style.bold("Its latest change") + ": \(x.latestType ?? "") at revision \(latest.revision) (\(latest.time)) by \(x.latestBy ?? "?"):")
            out += HistoryTable.render(causes, showObject: true, indent: "  ")
        } else if let causes = x.latestCauses {
            line()
            line(Style.bold("How it was removed") + ":")
            out += HistoryTable.render(causes, showObject: true, indent: "  ")
        }
        if let status = x.statusWritten, x.status == .exists {
            line()
            line("Its status was last written at revision \(status.revision) (\(status.time)) by \(x.statusWrittenBy ?? "?").")
        }
        return out
    }

    static func podName(_ target: String) throws -> String {
        guard let slash = target.firstIndex(of: "/") else { return target }
        guard ResourceKind(resource: String(target[..<slash])) == .pod else {
            throw CLIError("kj why explains pods: give pod/NAME")
        }
        return String(target[target.index(after: slash)...])
    }

    static func render(_ x: PodExplanation) -> String {
        var out = ""
        func line(_ s: String = "") { out += s + "\n" }
        let pod = Style.bold("pod \(x.pod)")
        switch x.status {
        case .placed:
            let request = x.boundByRequest.map { ", request \($0)" } ?? ""
            line("\(pod) is on \(Style.green(x.node ?? "?")): bound at revision \(x.bound?.revision ?? 0) (\(x.bound?.time ?? "")) by \(x.boundBy ?? "?")\(request).")
        case .pending:
            line("\(pod) is \(Style.yellow("Pending")): not on any node as of revision \(x.at.revision).")
        case .gone:
            let e = x.ending!
            line("\(pod) is \(Style.red("gone")): removed at revision \(e.removed.revision) (\(e.removed.time)) by \(e.removedBy).")
        }
        if !x.causes.isEmpty {
            line()
            line(Style.bold("How it got there") + " (oldest first; CAUSE: what each write carried out, (N): what triggered a decision):")
            if x.causesCut == true { line(Style.dim("  … earlier causes not shown (the chain is longer); kj history of the first object shows them")) }
            out += HistoryTable.render(x.causes, showObject: true, indent: "  ")
        }
        if let d = x.decision { out += renderDecision(d) }
        if let p = x.pending {
            line()
            line(Style.bold("Why it is pending: ") + p.message)
            for h in p.hints { line("  • " + h) }
        }
        if let e = x.ending {
            line()
            line(Style.bold("How it ended"))
            if let node = e.ranOn { line("  ran on \(node)") }
            if let r = e.deletionRequested { line("  deletion requested at revision \(r.revision) (\(r.time)) by \(e.deletionRequestedBy ?? "?")") }
            if let reason = e.deletionReason { line("  because \(reason)") }
            line("  final status: \(e.finalStatus)")
            line("  (kj history pod/\(x.pod.split(separator: "/").last ?? "") tells the whole story)")
        }
        if let r = x.rerun {
            line()
            let verdict = r.agrees ? Style.green("agrees") : Style.red("DISAGREES")
            if let source = r.recomputedFrom {
                let totals = Dictionary(r.nodes.map { ($0.node, $0.total) }, uniquingKeysWith: { a, _ in a })
                let tied = !r.agrees && r.recordedNode != nil && totals[r.recordedNode!] != nil && totals[r.recordedNode!] == totals[r.rerunNode ?? ""]
                line(Style.bold("Recomputed, not recorded: ") + "KubeJournal's scheduler (kube-scheduler's default profile) on the state \(JournalSource.record(source)) rebuilds just before the binding \(verdict) — the cluster bound \(r.recordedNode ?? "none"), the recomputation picks \(r.rerunNode ?? "none")"
                     + (tied ? " (the two tie: each scheduler breaks a tie its own way)." : "."))
            } else {
                line(Style.bold("Re-run on the observed state: ") + "\(verdict) — recorded \(r.recordedNode ?? "none"), re-run \(r.rerunNode ?? "none").")
            }
            line("Every node:")
            let columns = Self.columns(r.nodes.compactMap(\.plugins))
            out += TextTable.render(
                header: ["NODE", "VERDICT", "TOTAL"] + columns.map(Self.short),
                rows: r.nodes.map { n in
                    [n.node, n.filteredBy.map { "\($0): \(n.reasons.joined(separator: ", "))" } ?? "feasible", n.total.map(String.init) ?? "-"]
                        + columns.map { p in n.plugins?.first { $0.plugin == p }.map(Self.cell) ?? "-" }
                }).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
        }
        if let w = x.whyNot {
            line()
            line(Style.bold("Why not \(w.node): ") + w.answer)
            for d in w.details { line("  " + d) }
        }
        return out
    }

    /// Column headings for kube-scheduler's score plugins, and what each scores.
    static let pluginColumns: [String: (short: String, meaning: String)] = [
        PluginName.nodeResourcesFit: ("FIT", "NodeResourcesFit (the profile's scoring strategy)"),
        PluginName.nodeResourcesBalancedAllocation: ("BALANCED", "NodeResourcesBalancedAllocation"),
        PluginName.taintToleration: ("TAINTS", "TaintToleration PreferNoSchedule"),
        PluginName.nodeAffinity: ("AFFINITY", "NodeAffinity preferred terms"),
        PluginName.podTopologySpread: ("SPREAD", "PodTopologySpread"),
        PluginName.interPodAffinity: ("PODAFFINITY", "InterPodAffinity"),
        PluginName.imageLocality: ("IMAGES", "ImageLocality"),
    ]

    static func short(_ plugin: String) -> String { pluginColumns[plugin]?.short ?? plugin.uppercased() }

    /// The score plugins of a decision, in the profile's order (as recorded).
    static func columns(_ rows: [[PodExplanation.PluginScoreRow]]) -> [String] {
        var seen: [String] = []
        for row in rows { for p in row where !seen.contains(p.plugin) { seen.append(p.plugin) } }
        return seen
    }

    /// `normalised×weight`, and the raw score where it differs.
    static func cell(_ p: PodExplanation.PluginScoreRow) -> String {
        "\(p.score)×\(p.weight)" + (p.raw == p.score ? "" : " (\(p.raw))")
    }

    static func renderDecision(_ d: PodExplanation.Decision) -> String {
        var out = "\n"
        out += Style.bold("Scheduling decision") + " at revision \(d.revision) (attempt \(d.attempt), observed revision \(d.observed.map(String.init) ?? "?")):\n"
        if let profile = d.profile { out += "  Profile \(profile)" + (d.profileDigest.map { " (\($0))" } ?? "") + ".\n" }
        out += "  \(d.nodes) node(s), \(d.searched) searched, \(d.feasible) feasible.\n"
        if d.filtered.isEmpty {
            out += "  No node was filtered out.\n"
        } else {
            out += "  Filtered out:\n"
            for f in d.filtered {
                let sample = f.nodes.joined(separator: ", ") + (f.count > f.nodes.count ? ", …" : "")
                out += "    \(f.count) × \(f.reason) (\(f.plugin)): \(sample)\n"
            }
        }
        if !d.candidates.isEmpty {
            out += "  Best candidates (score × weight, (raw score) where normalising changed it; total = Σ):\n"
            let columns = Self.columns(d.candidates.map(\.plugins))
            let table = TextTable.render(
                header: ["NODE", "TOTAL"] + columns.map(Self.short),
                rows: d.candidates.map { c in
                    [c.node + (c.node == d.node ? " ✓" : ""), String(c.total)]
                        + columns.map { p in c.plugins.first { $0.plugin == p }.map(Self.cell) ?? "-" }
                })
            out += table.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n"
            out += "    (" + columns.map { "\(Self.short($0)) = \(Self.pluginColumns[$0]?.meaning ?? $0)" }.joined(separator: ", ") + ")\n"
        }
        if let rows = d.topology, !rows.isEmpty {
            out += "  Pods counted per topology domain:\n"
            for t in rows {
                let what = t.selector.isEmpty ? "" : " of \(t.selector)"
                let skew = t.maxSkew.map { ", maxSkew \($0)" } ?? ""
                let shown = t.domains.isEmpty ? "none" : t.domains.joined(separator: ", ") + (t.domainCount > Int64(t.domains.count) ? ", …" : "")
                out += "    \(t.plugin) \(t.rule) on \(t.topologyKey)\(skew): pods\(what): \(shown)\n"
            }
        }
        if let p = d.preemption {
            if let node = p.node {
                out += "  Preemption: \(p.candidates) candidate node(s); nominated \(node), evicting \(p.victims.joined(separator: ", ")).\n"
                out += "    (victims: the pods of lower priority the pod cannot fit beside, the most important kept where it can; among\n"
                out += "    candidate nodes the one whose most important victim matters least wins, then the lowest sum of priorities,\n"
                out += "    then the fewest victims, then the latest-started victims)\n"
            } else if let message = p.message {
                out += "  Preemption did not help: \(message.hasPrefix("preemption: ") ? String(message.dropFirst("preemption: ".count)) : message)\n"
            }
        }
        if let tied = d.tied {
            out += tied > 1
                ? "  Tie-break: \(tied) nodes shared the best total (\((d.tiedNodes ?? []).joined(separator: ", "))\(tied > (d.tiedNodes?.count ?? 0) ? ", …" : "")); the cluster seed and the pod's uid picked \(d.node ?? "?").\n"
                : "  No tie: \(d.node ?? "?") alone had the best total.\n"
        }
        return out
    }
}

/// The rows of a history (or a chain of causes) as an aligned table.
enum HistoryTable {
    /// Long values cut to fit a line (`-o json` keeps them whole).
    static func abbreviated(_ s: String, limit: Int = 110) -> String {
        s.count <= limit ? s : String(s.prefix(limit - 1)) + "…"
    }

    static func render(_ entries: [HistoryEntry], showObject: Bool, indent: String = "", maxChanges: Int = 6) -> String {
        var rows: [[String]] = []
        for e in entries {
            let marker = switch e.role { case .object: " "; case .origin: "↑"; case .consequence: "→" }
            var summary = e.summary
            if e.role != .object || showObject { summary = Style.dim("[\(e.object)]") + " " + summary }
            rows.append([marker + String(e.revision), clockTime(e.time), e.actor, e.type, e.cause.map(String.init) ?? e.trigger.map { "(\($0))" } ?? "", summary])
            for c in e.changes.prefix(maxChanges) { rows.append(["", "", "", "", "", "    " + Style.dim(abbreviated(c.description))]) }
            if e.changes.count > maxChanges { rows.append(["", "", "", "", "", "    " + Style.dim("… \(e.changes.count - maxChanges) more change(s); -o json shows all")]) }
        }
        let table = TextTable.render(header: [" REV", "TIME", "ACTOR", "EVENT", "CAUSE", "WHAT"], rows: rows)
        return table.split(separator: "\n").map { indent + $0 }.joined(separator: "\n") + "\n"
    }
}
