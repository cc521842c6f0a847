import ClusterModel
import ControlPlane
import Foundation

/// A simulated node's hardware and what its kubelet registers.
public struct SimulatedNode: Sendable {
    public var name: String
    public var capacity: [String: Quantity]
    public var labels: [String: String]
    public var taints: [Taint]
    /// Images already on the node: name and size in bytes.
    public var images: [(name: String, size: Int64)]
    /// The node's place in the cluster: its pod range is 10.244.<index>.0/24, its address 10.0.<index / 250>.<index % 250 + 1>.
    public var index: Int

    public init(name: String, capacity: [String: Quantity], labels: [String: String] = [:], taints: [Taint] = [], images: [(name: String, size: Int64)] = [], index: Int) {
        self.name = name
        self.capacity = capacity
        self.labels = labels
        self.taints = taints
        self.images = images
        self.index = index
    }

    var address: String { "10.0.\(index / 250).\(index % 250 + 1)" }

    /// A node added while the cluster runs, placed at `index` when it names none.
    public init(_ added: Fault.AddedNode, defaultIndex: Int) {
        let images = added.images.flatMap { i in (i.names ?? []).prefix(1).map { (name: $0, size: i.sizeBytes ?? 0) } }
        self.init(name: added.name, capacity: added.capacity, labels: added.labels, taints: added.taints, images: images, index: added.index ?? defaultIndex)
    }

    /// The node as the journal writes a node's hardware (`ControlPlaneStarted`'s `nodeSpecs`).
    public var added: Fault.AddedNode {
        Fault.AddedNode(name: name, capacity: capacity, labels: labels, taints: taints,
                        images: images.map { ContainerImage(names: [$0.name], sizeBytes: $0.size) }, index: index)
    }

    /// The labels every simulated kubelet adds to its node.
    static let kubeletLabels: Set<String> = ["kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch"]

    /// The hardware a kubelet registered, read back from its Node object (for journals whose
    /// `ControlPlaneStarted` does not list the nodes' hardware, and for simulations).
    public init(registered node: Node) {
        let cidr = node.spec?.podCIDR ?? ""
        let index = cidr.split(separator: ".").dropFirst(2).first.flatMap { Int($0) } ?? 1
        self.init(
            name: node.metadata.name ?? "", capacity: node.status?.capacity ?? [:],
            labels: (node.metadata.labels ?? [:]).filter { !Self.kubeletLabels.contains($0.key) }, taints: node.spec?.taints ?? [],
            images: (node.status?.images ?? []).compactMap { i in i.names?.first.map { (name: $0, size: i.sizeBytes ?? 0) } }, index: index)
    }

    /// The Node object the kubelet registers.
    func registration(at now: String) -> Node {
        var labels = self.labels
        labels["kubernetes.io/hostname"] = name
        labels["kubernetes.io/os"] = "linux"
        labels["kubernetes.io/arch"] = "amd64"
        var node = Node(metadata: ObjectMeta(name: name, labels: labels), spec: NodeSpec(taints: taints.isEmpty ? nil : taints))
        let cidr = "10.244.\(index).0/24"
        node.spec?.podCIDR = cidr
        node.spec?.podCIDRs = [cidr]
        var status = NodeStatus(capacity: capacity, allocatable: capacity)
        status.conditions = [NodeCondition(
            type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status",
            lastHeartbeatTime: now, lastTransitionTime: now)]
        status.addresses = [NodeAddress(type: "InternalIP", address: address), NodeAddress(type: "Hostname", address: name)]
        status.images = images.map { ContainerImage(names: [$0.name], sizeBytes: $0.size) }
        status.nodeInfo = .object([
            "kubeletVersion": .string("v1.32.0-kubejournal"), "kubeProxyVersion": .string("v1.32.0-kubejournal"),
            "containerRuntimeVersion": .string("simulated://1.0"), "osImage": .string("KubeJournal simulated node"),
            "kernelVersion": .string("6.0.0-sim"), "operatingSystem": .string("linux"), "architecture": .string("amd64"),
            "machineID": .string(name), "systemUUID": .string(name), "bootID": .string(name),
        ])
        node.status = status
        return node
    }
}

/// How a simulated container behaves, set by annotations on its pod (all optional).
///
/// | annotation | meaning | default |
/// |---|---|---|
/// | `sim.kubejournal.io/pull-seconds` | time to pull an image not yet on the node | 2 |
/// | `sim.kubejournal.io/startup-seconds` | from image present to container running | 1 |
/// | `sim.kubejournal.io/ready-after-seconds` | from running to Ready | 0 |
/// | `sim.kubejournal.io/exit-after-seconds` | the container exits by itself this long after each start | never (a Job's pod: 5) |
/// | `sim.kubejournal.io/exit-code` | its exit code | 1 (a Job's pod: 0) |
/// | `sim.kubejournal.io/ignore-sigterm` | `"true"`: keeps running after SIGTERM (killed at the grace period) | false |
/// | `sim.kubejournal.io/stop-seconds` | from SIGTERM to exit, when not ignored | 1 |
/// | `sim.kubejournal.io/prestop-seconds` | how long the preStop hook runs (needs `lifecycle.preStop`) | 0, or `preStop.sleep.seconds` |
/// | `sim.kubejournal.io/image-pull-fails` | `"true"`: every pull fails (ErrImagePull, ImagePullBackOff) | false |
public struct ContainerBehavior: Sendable, Equatable {
    public static let prefix = "sim.kubejournal.io/"
    /// The longest duration a behaviour may take (100 years): far beyond any simulation, and far
    /// from the ends of the clock.
    public static let maxSeconds: Double = 100 * 365 * 86_400

    /// How long a Job's pod runs when its annotations do not say.
    public static let jobRunSeconds: Double = 5

    static func clampedSeconds(_ s: Double) -> Double { min(max(s, 0), maxSeconds) }

    public var pullSeconds: Double = 2
    public var startupSeconds: Double = 1
    public var readyAfterSeconds: Double = 0
    public var exitAfterSeconds: Double?
    public var exitCode: Int32 = 1
    public var ignoreSIGTERM = false
    public var stopSeconds: Double = 1
    public var preStopSeconds: Double?
    public var imagePullFails = false

    public init(_ pod: Pod) {
        let a = pod.metadata.annotations ?? [:]
        // Annotations are free text: a duration is a finite number of seconds, clamped to
        // 0 … `maxSeconds`; anything else is ignored (the default applies).
        func number(_ k: String) -> Double? { a[Self.prefix + k].flatMap(Double.init).flatMap { $0.isFinite ? $0 : nil } }
        func seconds(_ k: String) -> Double? { number(k).map(Self.clampedSeconds) }
        pullSeconds = seconds("pull-seconds") ?? pullSeconds
        startupSeconds = seconds("startup-seconds") ?? startupSeconds
        readyAfterSeconds = seconds("ready-after-seconds") ?? readyAfterSeconds
        // A Job's pod runs to completion: unless its annotations say otherwise, it succeeds after a while.
        let ranByJob = pod.metadata.controllerReference?.kind == Job.kind
        exitAfterSeconds = seconds("exit-after-seconds") ?? (ranByJob ? Self.jobRunSeconds : nil)
        exitCode = number("exit-code").map { Int32(min(max($0.rounded(), Double(Int32.min)), Double(Int32.max))) } ?? (ranByJob ? 0 : exitCode)
        ignoreSIGTERM = a[Self.prefix + "ignore-sigterm"] == "true"
        stopSeconds = seconds("stop-seconds") ?? stopSeconds
        imagePullFails = a[Self.prefix + "image-pull-fails"] == "true"
        let hook = pod.spec.containers.compactMap { $0.lifecycle?.preStop }.first
        if hook != nil {
            preStopSeconds = seconds("prestop-seconds") ?? hook?.sleep.map { Self.clampedSeconds(Double($0.seconds)) } ?? 0
        }
    }
}
