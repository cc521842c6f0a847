import ClusterModel
import Journal

/// An input from outside the control plane that is not an API write: a fault (a node crashes, is
/// cut off, a container dies) or a change of capacity (a simulated node added or removed). Each is
/// journalled as a `FaultInjected` event — by the user who asked on a live server, or by the
/// simulation's fault injector — and the simulated kubelets act on it when they see it, so a
/// recorded live incident and a scenario file read alike, and a replay feeds them back in.
public enum Fault: Sendable, Equatable {
    /// The node stops: no heartbeats, its containers gone.
    case crash(node: String)
    /// A crashed node comes back: it registers again and starts what should run there.
    case recover(node: String)
    /// The node can no longer reach the API server: no heartbeats, its containers run on unseen.
    case partition(node: String)
    /// A partitioned node reaches the API server again.
    case heal(node: String)
    /// A container of a pod exits with `exitCode` (137: killed, as by the OOM killer).
    case kill(namespace: String, pod: String, container: String?, exitCode: Int32)
    /// A simulated kubelet starts on a new node and registers it.
    case addNode(AddedNode)
    /// The node's simulated kubelet stops for good (the Node object stays until deleted, as in Kubernetes).
    case removeNode(node: String)

    /// A node added while the cluster runs.
    public struct AddedNode: Sendable, Equatable {
        public var name: String
        public var capacity: [String: Quantity]
        public var labels: [String: String]
        public var taints: [Taint]
        /// Images already on the node.
        public var images: [ContainerImage]
        /// Its place in the cluster (pod range 10.244.<index>.0/24); nil: after the last node.
        public var index: Int?

        public init(name: String, capacity: [String: Quantity], labels: [String: String] = [:], taints: [Taint] = [],
                    images: [ContainerImage] = [], index: Int? = nil) {
            self.name = name
            self.capacity = capacity
            self.labels = labels
            self.taints = taints
            self.images = images
            self.index = index
        }

        /// The node as the journal writes it (`node`, `capacity`, `labels`, `taints`, `images`,
        /// `index`): in an `add-node` fault and in `ControlPlaneStarted`'s `nodeSpecs`.
        public var json: JSONValue {
            var d: [String: JSONValue] = ["node": .string(name), "capacity": .object(capacity.mapValues { .string($0.description) })]
            if !labels.isEmpty { d["labels"] = .object(labels.mapValues { .string($0) }) }
            if !taints.isEmpty { d["taints"] = (try? ValueEncoder().encode(taints)) ?? .array([]) }
            if !images.isEmpty { d["images"] = (try? ValueEncoder().encode(images)) ?? .array([]) }
            if let index { d["index"] = .int(Int64(index)) }
            return .object(d)
        }

        /// Reads `json` back; what is missing or malformed is left out (`name` when `node` is absent).
        public init(json d: JSONValue, name: String? = nil) {
            var capacity: [String: Quantity] = [:]
            for (k, v) in d["capacity"]?.objectValue ?? [:] { if let q = v.stringValue.flatMap({ try? Quantity(parsing: $0) }) { capacity[k] = q } }
            let labels = (d["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            let taints = (try? d["taints"].map { try ValueDecoder(strict: false).decode([Taint].self, from: $0) }) ?? nil
            let images = (try? d["images"].map { try ValueDecoder(strict: false).decode([ContainerImage].self, from: $0) }) ?? nil
            let index = d["index"]?.intValue.flatMap { Int(exactly: $0) }.flatMap { (1...65_000).contains($0) ? $0 : nil }
            self.init(name: d["node"]?.stringValue ?? name ?? "", capacity: capacity, labels: labels, taints: taints ?? [], images: images ?? [], index: index)
        }
    }

    /// The `fault` field of the event's data.
    public var name: String {
        switch self {
        case .crash: "crash"
        case .recover: "recover"
        case .partition: "partition"
        case .heal: "heal"
        case .kill: "kill"
        case .addNode: "add-node"
        case .removeNode: "remove-node"
        }
    }

    /// The node the fault is about (nil for a container).
    public var node: String? {
        switch self {
        case .crash(let n), .recover(let n), .partition(let n), .heal(let n), .removeNode(let n): n
        case .addNode(let a): a.name
        case .kill: nil
        }
    }

    /// The event's data.
    public var data: JSONValue {
        var d: [String: JSONValue] = ["fault": .string(name)]
        switch self {
        case .crash(let n), .recover(let n), .partition(let n), .heal(let n), .removeNode(let n):
            d["node"] = .string(n)
        case .kill(_, _, let container, let code):
            d["exitCode"] = .int(Int64(code))
            if let container { d["container"] = .string(container) }
        case .addNode(let a):
            d.merge(a.json.objectValue ?? [:]) { $1 }
        }
        return .object(d)
    }

    /// Reads a fault back from a `FaultInjected` event (nil: not one this version knows).
    public init?(_ event: Event) {
        guard event.type == DecisionType.fault, let d = try? JSONValue.parse(event.data), let fault = d["fault"]?.stringValue else { return nil }
        let node = d["node"]?.stringValue ?? event.object.name
        switch fault {
        case "crash": self = .crash(node: node)
        case "recover": self = .recover(node: node)
        case "partition": self = .partition(node: node)
        case "heal": self = .heal(node: node)
        case "remove-node": self = .removeNode(node: node)
        case "kill":
            let code = d["exitCode"]?.intValue.flatMap { Int32(exactly: $0) } ?? 137
            self = .kill(namespace: event.object.namespace, pod: event.object.name, container: d["container"]?.stringValue, exitCode: code)
        case "add-node":
            self = .addNode(AddedNode(json: d, name: node))
        default: return nil
        }
    }

    /// The object the event is about: the node, or the pod (with `uid`).
    public func object(uid: String = "") -> ObjectRef {
        switch self {
        case .kill(let ns, let pod, _, _): ObjectRef(kind: Pod.kind, namespace: ns, name: pod, uid: uid)
        default: ObjectRef(kind: Node.kind, name: node ?? "")
        }
    }
}
