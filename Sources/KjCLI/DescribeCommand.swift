import ArgumentParser
import ClusterModel
import ControlPlane
import Foundation
import Journal
import Queries

/// `kj describe KIND/NAME` or `kj describe KIND NAME`: an object as `kubectl describe` shows it,
/// at any point in the journal.
struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an object as kubectl describe does, with the core Events about it, now or at any past point.",
        discussion: "Ages are measured at the point shown.")

    @OptionGroup var location: JournalLocation
    @Argument(help: ArgumentHelp("The object, as kind/name (pod/nginx), or its kind when the name follows (pod nginx), as kubectl takes it.",
                                 valueName: "kind/name|kind")) var kindOrObject: String
    @Argument(help: ArgumentHelp("The object's name, after its kind.", valueName: "name")) var name: String?

    /// The object named by the arguments.
    var object: ObjectName {
        get throws {
            if let name {
                guard let found = ObjectName(argument: kindOrObject + "/" + name) else {
                    throw CLIError("the server doesn't have a resource type \"\(kindOrObject)\"")
                }
                return found
            }
            guard let found = ObjectName(argument: kindOrObject) else {
                throw CLIError("\"\(kindOrObject)\" is not kind/name (pod/nginx); give the kind and the name (kj describe pod nginx)")
            }
            return found
        }
    }
    @Option(name: .shortAndLong, help: "The namespace (default: default).") var namespace: String?
    @Option(parsing: .unconditional, help: PointInTime.help) var at: PointInTime?

    func run() throws {
        let object = try self.object
        let key = object.key(namespace: namespace)
        let journal = try location.openReadOnly()
        defer { journal.close() }
        let text = try journal.read { view -> String in
            let head = try view.head().revision
            let revision = try at?.revision(in: view) ?? head
            let state = try Projection.state(in: view, at: revision)
            guard let stored = state.object(key) else { throw try QueryError.absent(key, at: revision, in: view) }
            let value = try stored.shownJSON(in: view)
            let events = try state.list(.event).compactMap { try $0.decode(in: view) as? CoreEvent }
                .filter { $0.involvedObject.uid == stored.uid || ($0.involvedObject.kind == key.kind && $0.involvedObject.name == key.name && ($0.involvedObject.namespace ?? "") == key.namespace) }
            return Describer(now: state.time).describe(value, kind: object.kind, events: events, revision: revision, head: head)
        }
        print(text, terminator: "")
    }
}

/// kubectl describe's layout: aligned `Key:  value` lines, nested sections, and the Events table.
struct Describer {
    let now: Timestamp
    var out = ""

    init(now: Timestamp) { self.now = now }

    mutating func field(_ key: String, _ value: String?, indent: Int = 0) {
        let pad = String(repeating: " ", count: indent)
        out += pad + (key + ":").padding(toLength: max(16 - indent, key.count + 2), withPad: " ", startingAt: 0) + (value ?? "<none>") + "\n"
    }

    func map(_ v: JSONValue?) -> String? {
        guard let o = v?.objectValue, !o.isEmpty else { return nil }
        return o.keys.sorted().map { "\($0)=\(FieldDiffText.text(o[$0]!))" }.joined(separator: "\n" + String(repeating: " ", count: 16))
    }

    func describe(_ v: JSONValue, kind: ResourceKind, events: [CoreEvent], revision: UInt64, head: UInt64) -> String {
        var d = self
        let meta = v["metadata"]
        d.field("Name", meta?["name"]?.stringValue)
        if kind.namespaced { d.field("Namespace", meta?["namespace"]?.stringValue) }
        d.field("Labels", d.map(meta?["labels"]))
        d.field("Annotations", d.map(meta?["annotations"]))
        d.field("Created", meta?["creationTimestamp"]?.stringValue.map { "\($0) (\(age($0, now: now)) ago)" })
        if let owner = meta?["ownerReferences"]?.arrayValue?.first {
            d.field("Controlled By", "\(owner["kind"]?.stringValue ?? "")/\(owner["name"]?.stringValue ?? "")")
        }
        if let deletion = meta?["deletionTimestamp"]?.stringValue {
            d.field("Terminating", "grace period \(meta?["deletionGracePeriodSeconds"]?.intValue ?? 0)s, ends by \(deletion) (deletionTimestamp)")
        }
        switch kind {
        case .pod: d.pod(v)
        case .node: d.node(v)
        case .secret:
            d.field("Type", v["type"]?.stringValue)
            d.out += "Data\n====\n"
            // Values were replaced by their sizes (`<11 bytes>`) before they reached here.
            for (key, size) in (v["data"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                d.out += "\(key):  \(size.stringValue?.trimmingCharacters(in: CharacterSet(charactersIn: "<>")) ?? "")\n"
            }
        case .configMap:
            d.out += "Data\n====\n"
            for (key, value) in (v["data"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                d.out += "\(key):\n----\n\(value.stringValue ?? "")\n"
            }
            d.out += "BinaryData\n====\n"
            for (key, value) in (v["binaryData"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                d.out += "\(key): \(Data(base64Encoded: value.stringValue ?? "")?.count ?? 0) bytes\n"
            }
        default:
            for section in ["spec", "status"] where v[section] != nil {
                d.out += section.capitalized + ":\n" + indentYAML(v[section]!, by: 2)
            }
        }
        d.out += "Journal:        revision \(revision)\(revision == head ? " (the head)" : " of \(head)")\n"
        d.events(events)
        return d.out
    }

    mutating func pod(_ v: JSONValue) {
        let spec = v["spec"], status = v["status"]
        field("Node", spec?["nodeName"]?.stringValue)
        field("Start Time", status?["startTime"]?.stringValue)
        field("Status", Self.podStatus(v))
        field("IP", status?["podIP"]?.stringValue)
        out += "Containers:\n"
        for c in spec?["containers"]?.arrayValue ?? [] {
            let name = c["name"]?.stringValue ?? ""
            let cs = status?["containerStatuses"]?.arrayValue?.first { $0["name"]?.stringValue == name }
            out += "  \(name):\n"
            field("Image", c["image"]?.stringValue, indent: 4)
            if let ports = c["ports"]?.arrayValue, !ports.isEmpty {
                field("Port", ports.map { "\($0["containerPort"]?.intValue ?? 0)/\($0["protocol"]?.stringValue ?? "TCP")" }.joined(separator: ", "), indent: 4)
            }
            if let state = cs?["state"]?.objectValue, let (which, detail) = state.first {
                field("State", which.capitalized + (detail["reason"]?.stringValue.map { " (\($0))" } ?? ""), indent: 4)
                if let started = detail["startedAt"]?.stringValue { field("Started", started, indent: 6) }
                if let code = detail["exitCode"]?.intValue { field("Exit Code", String(code), indent: 6) }
            }
            if let last = cs?["lastState"]?["terminated"] {
                field("Last State", "Terminated (\(last["reason"]?.stringValue ?? ""), exit code \(last["exitCode"]?.intValue ?? 0))", indent: 4)
            }
            field("Ready", cs.map { $0["ready"] == .bool(true) ? "True" : "False" }, indent: 4)
            field("Restart Count", cs.map { String($0["restartCount"]?.intValue ?? 0) }, indent: 4)
            if let requests = c["resources"]?["requests"]?.objectValue {
                field("Requests", requests.keys.sorted().map { "\($0): \(FieldDiffText.text(requests[$0]!))" }.joined(separator: ", "), indent: 4)
            }
        }
        conditions(status?["conditions"])
        let tolerations = (spec?["tolerations"]?.arrayValue ?? []).map { t in
            "\(t["key"]?.stringValue ?? "")\(t["operator"]?.stringValue == "Exists" ? "" : "=" + (t["value"]?.stringValue ?? "")):\(t["effect"]?.stringValue ?? "")"
                + (t["tolerationSeconds"]?.intValue.map { " for \($0)s" } ?? "")
        }
        field("Tolerations", tolerations.isEmpty ? nil : tolerations.joined(separator: "\n" + String(repeating: " ", count: 16)))
    }

    mutating func node(_ v: JSONValue) {
        let taints = (v["spec"]?["taints"]?.arrayValue ?? []).map { t in
            let value = t["value"]?.stringValue ?? ""
            return "\(t["key"]?.stringValue ?? "")\(value.isEmpty ? "" : "=" + value):\(t["effect"]?.stringValue ?? "")"
        }
        field("Taints", taints.isEmpty ? nil : taints.joined(separator: "\n" + String(repeating: " ", count: 16)))
        field("Unschedulable", v["spec"]?["unschedulable"] == .bool(true) ? "true" : "false")
        conditions(v["status"]?["conditions"])
        for section in ["capacity", "allocatable"] {
            guard let o = v["status"]?[section]?.objectValue else { continue }
            out += section.capitalized + ":\n"
            for k in o.keys.sorted() { out += "  \(k):".padding(toLength: 20, withPad: " ", startingAt: 0) + FieldDiffText.text(o[k]!) + "\n" }
        }
    }

    mutating func conditions(_ list: JSONValue?) {
        guard let list = list?.arrayValue, !list.isEmpty else { return }
        out += "Conditions:\n"
        let rows = list.map { c in
            [c["type"]?.stringValue ?? "", c["status"]?.stringValue ?? "", c["reason"]?.stringValue ?? "", c["message"]?.stringValue ?? ""]
        }
        out += TextTable.render(header: ["Type", "Status", "Reason", "Message"], rows: rows).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
    }

    mutating func events(_ events: [CoreEvent]) {
        guard !events.isEmpty else {
            out += "Events:         <none>\n"
            return
        }
        out += "Events:\n"
        // By time, then by revision: events of the same second in the order they were written.
        func revision(_ e: CoreEvent) -> UInt64 { UInt64(e.metadata.resourceVersion ?? "") ?? 0 }
        let sorted = events.sorted { ($0.lastTimestamp ?? "", revision($0)) < ($1.lastTimestamp ?? "", revision($1)) }
        let rows = sorted.map { e -> [String] in
            let first = e.firstTimestamp ?? e.lastTimestamp ?? ""
            let count = e.count ?? 1
            let when = count > 1 ? "\(age(e.lastTimestamp ?? first, now: now)) (x\(count) over \(age(first, now: now)))" : age(first, now: now)
            return [e.type ?? "Normal", e.reason ?? "", when, [e.source?.component, e.source?.host].compactMap { $0 }.joined(separator: ", "), e.message ?? ""]
        }
        let table = TextTable.render(header: ["Type", "Reason", "Age", "From", "Message"], rows: [["----", "------", "----", "----", "-------"]] + rows)
        out += table.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
    }

    static func podStatus(_ v: JSONValue) -> String {
        if v["metadata"]?["deletionTimestamp"] != nil { return "Terminating (phase \(v["status"]?["phase"]?.stringValue ?? "Pending"))" }
        return v["status"]?["phase"]?.stringValue ?? "Pending"
    }

    func indentYAML(_ v: JSONValue, by n: Int) -> String {
        v.yaml().split(separator: "\n").map { String(repeating: " ", count: n) + $0 }.joined(separator: "\n") + "\n"
    }
}

/// Scalars as text: strings bare, everything else as compact JSON.
enum FieldDiffText {
    static func text(_ v: JSONValue) -> String {
        if case .string(let s) = v { return s }
        return String(decoding: v.serialized(), as: UTF8.self)
    }
}
