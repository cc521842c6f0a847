import ClusterModel
import Controllers
import ControlPlane
import Foundation
import Journal
import NodeAgent
import Scheduler

/// An incident scenario (`replay/*.yaml`): the cluster's nodes, a timeline of inputs (manifests
/// to apply, deletions, scalings, faults) and expectations to check at given times. The format is
/// documented in `replay/README.md`.
public struct Scenario: Sendable {
    public var name: String
    public var description: String
    public var seed: UInt64
    public var start: Timestamp
    /// How long to run after the start (default: 1 minute after the last step).
    public var duration: Int64
    public var nodes: [SimulatedNode]
    /// The scheduler's profiles: the `scheduler:` section (a `KubeSchedulerConfiguration`), else
    /// kube-scheduler's default profile.
    public var schedulerProfiles: [SchedulerProfile]
    /// The `controlPlane:` section: kube-controller-manager's node monitor grace period,
    /// kube-apiserver's event TTL and DefaultTolerationSeconds (kj serve's flags of those names).
    public var nodeMonitorGracePeriod = NodeLifecycleController.defaultMonitorGracePeriod
    public var eventTTL = EventTTLController.defaultTTL
    public var admission = Defaults.Admission()
    public var steps: [Step]

    /// One timeline entry: an input or a check, at `at` microseconds after the start.
    public struct Step: Sendable {
        public var at: Int64
        public var action: Action
        /// The user recorded as the actor of writes.
        public var user: String
    }

    public enum Action: Sendable {
        case apply(String)
        case delete(kind: ResourceKind, namespace: String?, name: String, gracePeriodSeconds: Int64?)
        /// Deletes the first pod (by name) that matches a label selector.
        case deleteMatching(selector: String, namespace: String?, gracePeriodSeconds: Int64?)
        case scale(kind: ResourceKind, namespace: String?, name: String, replicas: Int32)
        case setImage(deployment: String, namespace: String?, container: String?, image: String)
        case rollback(deployment: String, namespace: String?)
        /// A fault or a node added (journalled as `FaultInjected`, acted on by the kubelets).
        case fault(Fault)
        case expect(Expectation)
    }

    /// A scenario that cannot be read, with where and why.
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Reads a scenario from YAML.
    public init(yaml text: String) throws {
        let docs = try Manifest.documents(text)
        guard docs.count == 1, case .object(let root) = docs[0] else { throw ReadError(description: "a scenario is one YAML mapping") }
        func fail(_ s: String) -> ReadError { ReadError(description: s) }
        let known: Set<String> = ["name", "description", "seed", "start", "duration", "cluster", "timeline", "user", "scheduler", "controlPlane"]
        if let unknown = root.keys.sorted().first(where: { !known.contains($0) }) { throw fail("unknown key \"\(unknown)\"") }
        name = root["name"]?.stringValue ?? "scenario"
        description = root["description"]?.stringValue ?? ""
        // A seed is a whole number up to 2^64-1; one beyond Int64 is written as a string.
        guard let seed = root["seed"].map({ $0.intValue.map { UInt64(bitPattern: $0) } ?? $0.stringValue.flatMap { UInt64($0) } }) ?? 1 else {
            throw fail("seed: a whole number from 0 to 18446744073709551615")
        }
        self.seed = seed
        if let cp = root["controlPlane"] {
            let keys: Set<String> = ["nodeMonitorGracePeriod", "eventTTL", "defaultNotReadyTolerationSeconds", "defaultUnreachableTolerationSeconds"]
            if let unknown = cp.objectValue?.keys.sorted().first(where: { !keys.contains($0) }) { throw fail("controlPlane: unknown key \"\(unknown)\"") }
            func duration(_ k: String) throws -> Int64? {
                guard let v = cp[k] else { return nil }
                guard let d = v.stringValue.flatMap(Self.duration), d > 0 else { throw fail("controlPlane.\(k): a duration is required (40s, 1m)") }
                return d
            }
            if let d = try duration("nodeMonitorGracePeriod") { nodeMonitorGracePeriod = d }
            if let d = try duration("eventTTL") { eventTTL = d }
            for (k, path) in [("defaultNotReadyTolerationSeconds", \Defaults.Admission.notReadyTolerationSeconds),
                              ("defaultUnreachableTolerationSeconds", \Defaults.Admission.unreachableTolerationSeconds)] {
                guard let v = cp[k] else { continue }
                guard let n = v.intValue, n >= 0 else { throw fail("controlPlane.\(k): a number of seconds is required") }
                admission[keyPath: path] = n
            }
        }
        let startText = root["start"]?.stringValue ?? "2026-01-01T10:00:00Z"
        guard let t = Timestamp(rfc3339: startText) else { throw fail("start: not an RFC 3339 time: \(startText)") }
        start = t
        if let config = root["scheduler"] {
            do {
                schedulerProfiles = try SchedulerConfiguration.profiles(config).map(SchedulerProfile.init)
            } catch {
                throw fail("scheduler: \(error)")
            }
        } else {
            schedulerProfiles = [.kubeDefault]
        }
        let defaultUser = root["user"]?.stringValue ?? "alice"
        nodes = []
        for (i, n) in (root["cluster"]?["nodes"]?.arrayValue ?? []).enumerated() {
            let count = n["count"]?.intValue ?? 1
            for j in 0..<count {
                let name = n["name"]?.stringValue ?? "\(n["namePrefix"]?.stringValue ?? "node-")\(j + 1)"
                nodes.append(try Self.node(n, name: name, index: nodes.count + 1, path: "cluster.nodes[\(i)]"))
            }
        }
        guard !nodes.isEmpty else { throw fail("cluster.nodes: at least one node is required") }
        steps = []
        for (i, entry) in (root["timeline"]?.arrayValue ?? []).enumerated() {
            let path = "timeline[\(i)]"
            guard let at = entry["at"]?.stringValue.flatMap(Self.duration) ?? entry["at"]?.intValue.map({ $0 * 1_000_000 }) else {
                throw fail("\(path).at: a duration after the start is required (30s, 2m, 1m30s)")
            }
            let user = entry["as"]?.stringValue ?? defaultUser
            steps.append(Step(at: at, action: try Self.action(entry, path: path), user: user))
        }
        steps.sort { $0.at < $1.at }
        let last = steps.last?.at ?? 0
        duration = try root["duration"].map { v in
            guard let d = v.stringValue.flatMap(Self.duration) else { throw fail("duration: a duration is required") }
            return d
        } ?? last + 60_000_000
    }

    private static func action(_ e: JSONValue, path: String) throws -> Action {
        func fail(_ s: String) -> ReadError { ReadError(description: "\(path): \(s)") }
        func target(_ text: String) throws -> (ResourceKind, String) {
            let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, let kind = ResourceKind(resource: parts[0]) else { throw fail("expected kind/name, got \"\(text)\"") }
            return (kind, parts[1])
        }
        let namespace = e["namespace"]?.stringValue
        if let manifest = e["apply"]?.stringValue { return .apply(manifest) }
        if let manifest = e["apply"], manifest.objectValue != nil { return .apply(manifest.jsonString) }
        if let selector = e["deleteOne"]?.stringValue {
            return .deleteMatching(selector: selector, namespace: namespace, gracePeriodSeconds: e["gracePeriod"]?.intValue)
        }
        if let t = e["delete"]?.stringValue {
            let (kind, name) = try target(t)
            return .delete(kind: kind, namespace: namespace, name: name, gracePeriodSeconds: e["gracePeriod"]?.intValue)
        }
        if let t = e["scale"]?.stringValue {
            let (kind, name) = try target(t)
            guard let r = e["replicas"]?.intValue else { throw fail("scale needs replicas") }
            return .scale(kind: kind, namespace: namespace, name: name, replicas: Int32(r))
        }
        if let t = e["setImage"]?.stringValue {
            let (_, name) = try target(t)
            guard let image = e["image"]?.stringValue else { throw fail("setImage needs image") }
            return .setImage(deployment: name, namespace: namespace, container: e["container"]?.stringValue, image: image)
        }
        if let t = e["rollback"]?.stringValue {
            let (_, name) = try target(t)
            return .rollback(deployment: name, namespace: namespace)
        }
        if let n = e["addNode"] {
            guard let name = n["name"]?.stringValue else { throw fail("addNode needs a name") }
            let spec = try node(n, name: name, index: Int(n["index"]?.intValue ?? 200), path: path + ".addNode")
            return .fault(.addNode(Fault.AddedNode(
                name: spec.name, capacity: spec.capacity, labels: spec.labels, taints: spec.taints,
                images: spec.images.map { ContainerImage(names: [$0.name], sizeBytes: $0.size) }, index: spec.index)))
        }
        if let f = e["fault"] {
            let faults: [(String, (String) -> Fault)] = [
                ("crash", { .crash(node: $0) }), ("recover", { .recover(node: $0) }), ("partition", { .partition(node: $0) }),
                ("heal", { .heal(node: $0) }), ("removeNode", { .removeNode(node: $0) }),
            ]
            for (word, make) in faults {
                if let node = f[word]?.stringValue { return .fault(make(node)) }
            }
            if let pod = f["kill"]?.stringValue {
                let (_, name) = try target(pod)
                let code = f["exitCode"]?.intValue.flatMap { Int32(exactly: $0) } ?? 137
                return .fault(.kill(namespace: namespace ?? "default", pod: name, container: f["container"]?.stringValue, exitCode: code))
            }
            throw fail("fault must be one of crash, recover, partition, heal, removeNode (a node) or kill (pod/name, with exitCode and container)")
        }
        if let x = e["expect"] { return .expect(try Expectation(x, path: path + ".expect")) }
        throw fail("a step needs one of apply, delete, deleteOne, scale, setImage, rollback, addNode, fault, expect")
    }

    private static func node(_ n: JSONValue, name: String, index: Int, path: String) throws -> SimulatedNode {
        var capacity: [String: Quantity] = [:]
        for (k, def) in [("cpu", "2"), ("memory", "4Gi"), ("pods", "110")] {
            let text = n[k]?.stringValue ?? n[k]?.intValue.map(String.init) ?? def
            do { capacity[k] = try Quantity(parsing: text) } catch { throw ReadError(description: "\(path).\(k): \(error)") }
        }
        let labels = n["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        let taints = try (n["taints"]?.arrayValue ?? []).map { t -> Taint in
            guard let key = t["key"]?.stringValue, let effect = t["effect"]?.stringValue else {
                throw ReadError(description: "\(path).taints: key and effect are required")
            }
            return Taint(key: key, value: t["value"]?.stringValue, effect: effect)
        }
        let images = (n["images"]?.arrayValue ?? []).compactMap { i -> (name: String, size: Int64)? in
            if let s = i.stringValue { return (s, 50 * 1024 * 1024) }
            guard let name = i["name"]?.stringValue else { return nil }
            return (name, i["size"]?.intValue ?? 50 * 1024 * 1024)
        }
        return SimulatedNode(name: name, capacity: capacity, labels: labels, taints: taints, images: images, index: index)
    }

    /// `30s`, `5m`, `1m30s`, `2h` in microseconds.
    public static func duration(_ s: String) -> Int64? { Timestamp.duration(s, bareSeconds: true) }
}
