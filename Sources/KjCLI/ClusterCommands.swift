import APIServer
import ArgumentParser
import ClusterClient
import ClusterModel
import ControlPlane
import Foundation
import Journal
import Queries

/// `--at`: a revision (`1200`), an RFC 3339 time, or a duration before the journal's head (`-5m`).
extension PointInTime: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }

    static let help = ArgumentHelp(
        "Show the cluster as of a revision (1200), a time (2026-11-22T10:00:00Z), or a duration before the journal's last event (-5m).",
        valueName: "rev|time|-duration")
}

enum GetOutput: String, ExpressibleByArgument, CaseIterable {
    case table, wide, json, yaml, name
}

/// `kj get`: objects from the journal, now or at any past point.
struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List objects as the journal records them, now or at any past revision or time.",
        discussion: "Reads the journal directly (read-only), so it works while a server is writing. Kinds: \(ResourceKind.allCases.map(\.plural).joined(separator: ", ")).")

    @OptionGroup var location: JournalLocation
    @Argument(help: "The kind (pods, po, deployments …), or kind/name.") var kind: String
    @Argument(help: "Names to show (default: all).") var names: [String] = []
    @Option(name: .shortAndLong, help: "The namespace (default: default).") var namespace: String?
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "All namespaces.") var allNamespaces = false
    @Option(name: [.customShort("l"), .customLong("selector"), .customShort("s", allowingJoined: false)], help: "A label selector (app=web,tier!=db), as kubectl's -l.") var selector: String?
    @Option(name: .customLong("field-selector"), help: "A field selector (spec.nodeName=node-1).") var fieldSelector: String?
    @Option(name: .shortAndLong, help: "Output format: table, wide, json, yaml or name.") var output: GetOutput = .table
    @Option(parsing: .unconditional, help: PointInTime.help) var at: PointInTime?
    @Flag(help: "Keep metadata.managedFields in json and yaml output (left out by default, as kubectl does).") var showManagedFields = false
    @OptionGroup var remote: RemoteOptions

    /// The objects from a `kj serve`'s `/kj/v1/state`, and the time of the revision they are at.
    static func fetch(_ client: JournalClient, _ resource: ResourceKind, namespace: String?, names: [String], at: PointInTime?,
                      selector: String?, fieldSelector: String?) async throws -> (Timestamp, UInt64, [any Resource]) {
        let list = try await client.fetch(JSONValue.self, JournalClient.path("/kj/v1/state/\(resource.plural)", [
            ("at", at?.text), ("namespace", namespace), ("labelSelector", selector), ("fieldSelector", fieldSelector),
        ]))
        let revision = UInt64(list["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0
        let objects = try (list["items"]?.arrayValue ?? []).map { try resource.decode($0, strict: false) }
            .filter { names.isEmpty || names.contains($0.metadata.name ?? "") }
        let at = try await client.fetch([EventRecord].self, JournalClient.path("/kj/v1/events", [("from", String(revision)), ("to", String(revision))]))
        return (at.first.flatMap { Timestamp(rfc3339: $0.time) } ?? Timestamp(microseconds: 0), revision, objects)
    }

    func run() async throws {
        var kindName = kind
        var names = self.names
        if let slash = kind.firstIndex(of: "/") {
            kindName = String(kind[..<slash])
            names.insert(String(kind[kind.index(after: slash)...]), at: 0)
        }
        guard let resource = ResourceKind(resource: kindName) else {
            throw CLIError("the server doesn't have a resource type \"\(kindName)\"")
        }
        let namespace = resource.namespaced && !allNamespaces ? (self.namespace ?? "default") : nil
        var labels: LabelSelectorExpression?
        var fields: FieldSelectorExpression?
        if let selector { labels = try LabelSelectorExpression(parsing: selector) }
        if let fieldSelector { fields = try FieldSelectorExpression(parsing: fieldSelector, kind: resource) }
        let rowsInPlace = (output == .table || output == .wide) && fields == nil && resource.definition.readsRowsInPlace
        let (time, revision, listed): (Timestamp, UInt64, Listed)
        if let fetched = try await remote.withClient({ client in
            try await Self.fetch(client, resource, namespace: namespace, names: names, at: at, selector: selector, fieldSelector: fieldSelector)
        }) {
            (time, revision) = (fetched.0, fetched.1)
            listed = .objects(fetched.2)
        } else {
            let journal = try location.openReadOnly()
            defer { journal.close() }
            // One read view: the state and the objects it points at are from the same moment.
            (time, revision, listed) = try journal.read { view -> (Timestamp, UInt64, Listed) in
                let rev = try at.map { try $0.revision(in: view) } ?? view.head().revision
                if rowsInPlace {
                    let (state, rows) = try Self.rows(resource, namespace: namespace, names: names, labels: labels, at: rev, in: view)
                    return (state.time, rev, .rows(rows))
                }
                let (state, objects) = try Self.select(resource, namespace: namespace, names: names, labels: labels, fields: fields, at: rev, in: view)
                return (state.time, rev, .objects(objects))
            }
        }
        let shownNames = listed.names
        for missing in names where !shownNames.contains(missing) {
            let when = at == nil ? "" : " at revision \(revision)"
            throw CLIError("\(resource.plural) \"\(missing)\" not found\(when)")
        }
        let out = FileSink.standardOutput()
        defer { try? out.close() }
        switch (output, listed) {
        case (.json, .objects(let objects)), (.yaml, .objects(let objects)):
            let values = try objects.map { o in
                var shown = o
                if !showManagedFields { shown.metadata.managedFields = nil }
                return Redaction.redact(try ValueEncoder().encode(shown), kind: resource.kind)
            }
            let doc: JSONValue = values.count == 1 && !names.isEmpty ? values[0] : .object([
                "apiVersion": .string("v1"), "kind": .string("List"), "items": .array(values),
                "metadata": .object(["resourceVersion": .string(String(revision))]),
            ])
            out.write(output == .json ? doc.prettyPrinted() + "\n" : doc.yaml())
        case (.name, _):
            for name in shownNames { out.line("\(resource.singular)/\(name)") }
        default:
            let rows = listed.rows(resource, at: time)
            if rows.isEmpty {
                let scope = namespace.map { " in \($0) namespace" } ?? ""
                printError("No resources found\(scope)\(at == nil ? "" : " at revision \(revision)").")
                return
            }
            out.write(Self.table(resource, rows, namespace: namespace, wide: output == .wide))
        }
    }

    /// What `kj get` lists: decoded objects, or table rows read in place from the journal.
    enum Listed {
        case objects([any Resource])
        case rows([Row])

        var names: [String] {
            switch self {
            case .objects(let objects): objects.map { $0.metadata.name ?? "" }
            case .rows(let rows): rows.map(\.name)
            }
        }

        /// The table rows, ages measured at `time`.
        func rows(_ resource: ResourceKind, at time: Timestamp) -> [Row] {
            switch self {
            case .rows(let rows): return rows
            case .objects(let objects):
                let now = Self.date(time)
                return objects.map { o in Row(name: o.metadata.name ?? "", namespace: o.metadata.namespace ?? "", cells: resource.definition.cells(o, now: now)) }
            }
        }

        /// Ages are measured at the point shown: the head, or the revision asked for.
        static func date(_ time: Timestamp) -> Date { Date(timeIntervalSince1970: Double(time.microseconds) / 1e6) }
    }

    /// One object's row of the table.
    struct Row {
        var name: String
        var namespace: String
        var cells: [String]
    }

    /// The state at `revision` and the objects of `resource` in it that the names and selectors pick, decoded.
    static func select(_ resource: ResourceKind, namespace: String?, names: [String] = [], labels: LabelSelectorExpression? = nil,
                       fields: FieldSelectorExpression? = nil, at revision: UInt64, in view: JournalView) throws -> (ClusterState, [any Resource]) {
        let state = try Projection.state(in: view, at: revision, only: [resource])
        var objects: [any Resource] = []
        for stored in state.list(resource, namespace: namespace) where names.isEmpty || names.contains(stored.key.name) {
            let o = try stored.decode(in: view)
            if let labels, !labels.matches(o.metadata.labels ?? [:]) { continue }
            if let fields, !fields.matches(o.fieldValue) { continue }
            objects.append(o)
        }
        return (state, objects)
    }

    /// The rows of the objects of `resource` at `revision` that the names and label selector pick,
    /// read in place from their stored JSON — no object is decoded (for kinds whose definition
    /// reads rows in place; `select` otherwise).
    static func rows(_ resource: ResourceKind, namespace: String?, names: [String] = [], labels: LabelSelectorExpression? = nil,
                     at revision: UInt64, in view: JournalView) throws -> (ClusterState, [Row]) {
        let state = try Projection.state(in: view, at: revision, only: [resource])
        let now = Listed.date(state.time)
        var rows: [Row] = []
        for stored in state.list(resource, namespace: namespace) where names.isEmpty || names.contains(stored.key.name) {
            let cells = try stored.withStoredJSON(in: view) { json -> [String]? in
                if let labels, !labels.matches(json.labels) { return nil }
                return resource.definition.cells(stored: json, now: now)
            }
            if let cells { rows.append(Row(name: stored.key.name, namespace: stored.key.namespace, cells: cells)) }
        }
        return (state, rows)
    }

    /// The table `kj get` prints; a NAMESPACE column when `namespace` is nil.
    static func table(_ resource: ResourceKind, _ rows: [Row], namespace: String?, wide: Bool) -> String {
        let columns = resource.definition.columns
        let visible = columns.indices.filter { wide || columns[$0].priority == 0 }
        var header = visible.map { columns[$0].name.uppercased() }
        var cells = rows.map { row in visible.map { row.cells[$0] } }
        if namespace == nil, resource.namespaced {
            header.insert("NAMESPACE", at: 0)
            for i in cells.indices { cells[i].insert(rows[i].namespace, at: 0) }
        }
        return TextTable.render(header: header, rows: cells)
    }
}

/// `kj apply -f`: create or update objects from manifests, writing the journal directly.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update objects from a YAML or JSON manifest, writing the journal directly.",
        discussion: "Objects that exist are updated to match the manifest (spec, labels and annotations are replaced; status is kept); others are created. Each write is one event whose actor is you (--as).")

    @OptionGroup var location: JournalLocation
    @Option(name: .shortAndLong, help: ArgumentHelp("The manifest ('-' for standard input).", valueName: "file")) var filename: String
    @Option(name: .shortAndLong, help: "The namespace for objects that name none (default: default).") var namespace: String?
    @Option(name: .customLong("as"), help: "The user recorded as the actor (default: $USER).") var user: String?
    @Flag(help: "Check and print, but write nothing.") var dryRun = false

    func run() async throws {
        let text: String
        if filename == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: filename) else { throw CLIError("cannot read \(filename)") }
            text = String(decoding: data, as: UTF8.self)
        }
        let objects = try Manifest.objects(text)
        let journal = try location.openForWriting()
        defer { journal.close() }
        let store = try await Store.open(journal: journal)
        let origin = Store.Origin(.user(user ?? ProcessInfo.processInfo.environment["USER"] ?? NSUserName()))
        for var object in objects {
            let kind = ResourceKind(of: type(of: object))
            if kind.namespaced, object.metadata.namespace == nil { object.metadata.namespace = namespace ?? "default" }
            let name = object.metadata.name ?? object.metadata.generateName ?? ""
            let exists = (try? await store.get(kind, namespace: object.metadata.namespace, name: name)) != nil
            let result: any Resource
            if exists {
                object.metadata.resourceVersion = nil
                let before = try await store.get(kind, namespace: object.metadata.namespace, name: name).metadata.resourceVersion
                result = try await store.update(object, by: origin, dryRun: dryRun)
                let verb = result.metadata.resourceVersion == before ? "unchanged" : "configured"
                print("\(kind.singular)/\(result.metadata.name ?? name) \(verb)\(dryRun ? " (dry run)" : "")")
            } else {
                result = try await store.create(object, by: origin, dryRun: dryRun)
                print("\(kind.singular)/\(result.metadata.name ?? name) created\(dryRun ? " (dry run)" : "")")
            }
        }
    }
}

/// `kj delete`: delete objects, writing the journal directly.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete objects, writing the journal directly.",
        discussion: "Pods bound to a node are deleted gracefully: they become Terminating until their kubelet removes them.")

    @OptionGroup var location: JournalLocation
    @Argument(help: "kind/name, or a kind followed by names.") var targets: [String]
    @Option(name: .shortAndLong, help: "The namespace (default: default).") var namespace: String?
    @Option(name: .customLong("grace-period"), help: "Seconds to let pods terminate (0 deletes at once).") var gracePeriod: Int64?
    @Flag(help: "Delete at once (grace period 0).") var now = false
    @Option(name: .customLong("as"), help: "The user recorded as the actor (default: $USER).") var user: String?

    func run() async throws {
        var pairs: [(ResourceKind, String)] = []
        var pendingKind: ResourceKind?
        for t in targets {
            if let slash = t.firstIndex(of: "/") {
                guard let k = ResourceKind(resource: String(t[..<slash])) else { throw CLIError("the server doesn't have a resource type \"\(t[..<slash])\"") }
                pairs.append((k, String(t[t.index(after: slash)...])))
            } else if let k = pendingKind {
                pairs.append((k, t))
            } else {
                guard let k = ResourceKind(resource: t) else { throw CLIError("the server doesn't have a resource type \"\(t)\"") }
                pendingKind = k
            }
        }
        guard !pairs.isEmpty else { throw CLIError("give kind/name, or a kind and names") }
        let journal = try location.openForWriting()
        defer { journal.close() }
        let store = try await Store.open(journal: journal)
        let origin = Store.Origin(.user(user ?? ProcessInfo.processInfo.environment["USER"] ?? NSUserName()))
        for (kind, name) in pairs {
            let result = try await store.delete(kind, namespace: namespace, name: name, gracePeriodSeconds: now ? 0 : gracePeriod, by: origin)
            let stillThere = (try? await store.get(kind, namespace: namespace, name: name)) != nil
            let terminating = result.metadata.deletionTimestamp != nil && stillThere
            print("\(kind.singular) \"\(name)\" deleted\(terminating ? " (terminating: its kubelet completes the deletion)" : "")")
        }
    }
}

/// Left-aligned columns separated by three spaces, as kubectl prints them.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0.indices.contains(i) ? visibleWidth($0[i]) : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] + 3 - visibleWidth(cell))
            }.joined()
        }.joined(separator: "\n") + "\n"
    }

    /// Characters on screen: colour escape sequences take none.
    static func visibleWidth(_ s: String) -> Int {
        var n = 0, inEscape = false
        for c in s.unicodeScalars {
            if inEscape { if c == "m" { inEscape = false }; continue }
            if c == "\u{1B}" { inEscape = true; continue }
            n += 1
        }
        return n
    }
}
