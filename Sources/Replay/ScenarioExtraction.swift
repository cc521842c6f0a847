import ClusterModel
import ControlPlane
import Foundation
import Journal
import NodeAgent
import Scheduler

/// A recording written as a `replay/` scenario (`kj replay extract`): its cluster, its inputs at
/// their offsets from the start, and expectations that hold at its end — so an incident becomes a
/// regression test that `kj simulate` runs.
public struct ScenarioExtraction: Sendable {
    /// The scenario as YAML.
    public var yaml: String
    /// What the scenario cannot say (a control plane restart, a user's status write …), one line each.
    public var notes: [String]

    /// Metadata the API server sets, left out of the manifests the scenario applies.
    static let serverFields = ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds"]

    /// Reads the recording in `journal` (up to `to`, its head if nil) as a scenario named `name`.
    public static func extract(from journal: Journal, name: String, to: UInt64? = nil) throws -> ScenarioExtraction {
        let recording = try Recording(journal: journal)
        let end = min(to ?? recording.head.revision, recording.head.revision)
        let start = try recording.required(1).time
        let endTime = try recording.required(end).time
        var notes: [String] = []
        let firstRun = try recording.event(at: recording.bootstrapped + 1).flatMap { $0.type == ClusterEventType.controlPlaneStarted ? $0 : nil }
        let config = try recording.configuration(of: firstRun)
        if config.settings.schedulerProfiles.map(\.digest) != [SchedulerProfile.kubeDefault.digest] {
            notes.append("the scheduler ran profiles \(config.settings.schedulerProfiles.map(\.schedulerName).joined(separator: ", ")); add them as a scheduler: section")
        }
        var users: [String: Int] = [:]
        var steps: [JSONValue] = []
        func offset(_ t: Timestamp) -> String {
            let micros = max(0, start.microseconds(until: t))
            return micros % 1_000_000 == 0 ? "\(micros / 1_000_000)s" : "\(micros / 1000)ms"
        }
        for r in (recording.bootstrapped + 1)...max(end, recording.bootstrapped + 1) where r <= end {
            let e = try recording.required(r)
            guard EventSource(e.actor) == .input else { continue }
            var step: [String: JSONValue] = ["at": .string(offset(e.time))]
            if e.actor.kind == "user" {
                step["as"] = .string(e.actor.name)
                users[e.actor.name, default: 0] += 1
            }
            if let fault = Fault(e) {
                step.merge(Self.fault(fault)) { $1 }
            } else if let type = WriteType(rawValue: e.type), let kind = ResourceKind(rawValue: e.object.kind), e.actor != .bootstrap {
                switch type {
                case .created, .updated:
                    var object = try JSONValue.parse(e.data)
                    object["status"] = nil
                    if var meta = object["metadata"]?.objectValue {
                        for f in serverFields { meta[f] = nil }
                        object["metadata"] = .object(meta)
                    }
                    step["apply"] = object
                case .deletionStarted, .deleted:
                    step["delete"] = .string("\(kind.kind.lowercased())/\(e.object.name)")
                    if kind.namespaced { step["namespace"] = .string(e.object.namespace) }
                    if let grace = try JSONValue.parse(e.data)["metadata"]?["deletionGracePeriodSeconds"]?.intValue { step["gracePeriod"] = .int(grace) }
                case .statusUpdated, .bound:
                    notes.append("revision \(r): \(e.actor)'s \(e.type) of \(e.object) is not an input a scenario can make; left out")
                    continue
                }
            } else {
                if e.type == ClusterEventType.controlPlaneStarted, r != firstRun?.revision {
                    notes.append("revision \(r): the control plane restarted at \(offset(e.time)); a simulation runs on without the restart")
                } else if e.type != ClusterEventType.controlPlaneStarted, e.actor != .bootstrap {
                    notes.append("revision \(r): \(e.type) by \(e.actor) is not an input a scenario can make; left out")
                }
                continue
            }
            steps.append(.object(step))
        }
        let user = users.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? "alice"
        steps = steps.map { s in
            guard s["as"]?.stringValue == user, case .object(var o) = s else { return s }
            o["as"] = nil
            return .object(o)
        }
        steps += try expectations(in: journal, at: end, offset: offset(endTime))
        var description = "Extracted by kj replay extract from \(journal.path), revisions 1 to \(end)."
        if !notes.isEmpty { description += " Not in it: " + notes.joined(separator: "; ") + "." }
        let scenario: JSONValue = .object([
            "name": .string(name),
            "description": .string(description),
            "seed": .string(String(try journal.read { try ClusterSeed.read(in: $0) })),
            "start": .string(start.rfc3339),
            "duration": .string(offset(endTime.adding(seconds: 1))),
            "user": .string(user),
            "cluster": .object(["nodes": .array(config.nodes.sorted { $0.index < $1.index }.map(Self.node))]),
            "controlPlane": .object([
                "nodeMonitorGracePeriod": .string("\(config.settings.nodeMonitorGracePeriod / 1000)ms"),
                "eventTTL": .string("\(config.settings.eventTTL / 1000)ms"),
                "defaultNotReadyTolerationSeconds": .int(config.admission.notReadyTolerationSeconds),
                "defaultUnreachableTolerationSeconds": .int(config.admission.unreachableTolerationSeconds),
            ]),
            "timeline": .array(steps),
        ])
        return ScenarioExtraction(yaml: scenario.yaml(), notes: notes)
    }

    /// A node as a scenario's cluster lists it.
    static func node(_ n: SimulatedNode) -> JSONValue {
        var o: [String: JSONValue] = ["name": .string(n.name)]
        for (k, q) in n.capacity.sorted(by: { $0.key < $1.key }) where ["cpu", "memory", "pods"].contains(k) { o[k] = .string(q.description) }
        if !n.labels.isEmpty { o["labels"] = .object(n.labels.mapValues { .string($0) }) }
        if !n.taints.isEmpty {
            o["taints"] = .array(n.taints.map { t in
                var x: [String: JSONValue] = ["key": .string(t.key), "effect": .string(t.effect)]
                if let v = t.value { x["value"] = .string(v) }
                return .object(x)
            })
        }
        if !n.images.isEmpty { o["images"] = .array(n.images.map { .object(["name": .string($0.name), "size": .int($0.size)]) }) }
        return .object(o)
    }

    /// A fault as a scenario's step says it.
    static func fault(_ f: Fault) -> [String: JSONValue] {
        switch f {
        case .crash(let n): ["fault": .object(["crash": .string(n)])]
        case .recover(let n): ["fault": .object(["recover": .string(n)])]
        case .partition(let n): ["fault": .object(["partition": .string(n)])]
        case .heal(let n): ["fault": .object(["heal": .string(n)])]
        case .removeNode(let n): ["fault": .object(["removeNode": .string(n)])]
        case .kill(let ns, let pod, let container, let code):
            ["namespace": .string(ns), "fault": .object(["kill": .string("pod/\(pod)"), "exitCode": .int(Int64(code))]
                .merging(container.map { ["container": JSONValue.string($0)] } ?? [:]) { $1 })]
        case .addNode(let a):
            ["addNode": {
                guard case .object(var o) = node(SimulatedNode(a, defaultIndex: a.index ?? 200)) else { return .null }
                if let index = a.index { o["index"] = .int(Int64(index)) }
                return .object(o)
            }()]
        }
    }

    /// What the recording shows at its end: each Deployment's replicas, each pod without a
    /// controller's phase and node, each node's readiness.
    static func expectations(in journal: Journal, at revision: UInt64, offset: String) throws -> [JSONValue] {
        let state = try Projection.state(of: journal, at: revision)
        var out: [JSONValue] = []
        try journal.read { view in
            for stored in state.list(.deployment) {
                guard let d = try stored.decode(in: view) as? Deployment else { continue }
                var x: [String: JSONValue] = ["deployment": .string(stored.key.name), "namespace": .string(stored.key.namespace)]
                x["available"] = .int(Int64(d.status?.availableReplicas ?? 0))
                x["updated"] = .int(Int64(d.status?.updatedReplicas ?? 0))
                out.append(.object(["at": .string(offset), "expect": .object(x)]))
            }
            for stored in state.list(.pod) {
                guard let p = try stored.decode(in: view) as? Pod, p.metadata.controllerReference == nil, p.metadata.deletionTimestamp == nil else { continue }
                var x: [String: JSONValue] = ["pod": .string(stored.key.name), "namespace": .string(stored.key.namespace)]
                if let phase = p.status?.phase { x["phase"] = .string(phase) }
                if let node = p.spec.nodeName { x["node"] = .string(node) }
                out.append(.object(["at": .string(offset), "expect": .object(x)]))
            }
            for stored in state.list(.node) {
                guard let n = try stored.decode(in: view) as? Node, let ready = n.condition("Ready")?.status else { continue }
                out.append(.object(["at": .string(offset), "expect": .object(["node": .string(stored.key.name), "ready": .string(ready)])]))
            }
        }
        return out
    }
}
