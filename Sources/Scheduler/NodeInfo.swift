import ClusterModel

/// CPU in milli-cores, memory in bytes, a pod count, and every other resource (ephemeral storage,
/// extended resources such as `nvidia.com/gpu`, hugepages) in units. 128-bit, so that any sum of
/// quantities (each at most `Quantity.maxMilli`) is exact: adding and removing pods never overflows
/// or drifts.
public struct Resources: Sendable, Equatable {
    public var milliCPU: Int128 = 0
    public var memory: Int128 = 0
    public var pods: Int128 = 0
    /// Resources other than CPU, memory and pods, by name.
    public var scalar: [String: Int128] = [:]

    public init(milliCPU: Int128 = 0, memory: Int128 = 0, pods: Int128 = 0, scalar: [String: Int128] = [:]) {
        self.milliCPU = milliCPU
        self.memory = memory
        self.pods = pods
        self.scalar = scalar
    }

    /// A resource list (`requests`, `allocatable`, `overhead`) read: CPU in millis, the rest in units.
    init(_ list: [String: Quantity], pods: Int128 = 0) {
        self.init(pods: pods)
        for (name, q) in list {
            switch name {
            case "cpu": milliCPU = q.milli
            case "memory": memory = Int128(q.value)
            case "pods": break
            default: scalar[name] = Int128(q.value)
            }
        }
    }

    static func + (a: Resources, b: Resources) -> Resources {
        Resources(milliCPU: a.milliCPU + b.milliCPU, memory: a.memory + b.memory, pods: a.pods + b.pods,
                  scalar: a.scalar.merging(b.scalar, uniquingKeysWith: +))
    }

    static func - (a: Resources, b: Resources) -> Resources {
        Resources(milliCPU: a.milliCPU - b.milliCPU, memory: a.memory - b.memory, pods: a.pods - b.pods,
                  scalar: a.scalar.merging(b.scalar.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 })
    }

    /// The larger of the two, per resource.
    static func maximum(_ a: Resources, _ b: Resources) -> Resources {
        Resources(milliCPU: max(a.milliCPU, b.milliCPU), memory: max(a.memory, b.memory), pods: max(a.pods, b.pods),
                  scalar: a.scalar.merging(b.scalar, uniquingKeysWith: max))
    }
}

/// A host port a pod asks for: protocol, IP and port.
struct HostPort: Hashable, Sendable, Equatable {
    var proto: String
    var ip: String
    var port: Int32

    /// Two ports conflict when protocol and port match and either IP is the wildcard or they match.
    func conflicts(with o: HostPort) -> Bool {
        proto == o.proto && port == o.port && (ip == o.ip || ip == "0.0.0.0" || o.ip == "0.0.0.0")
    }
}

/// What a pod asks of a node, computed once per pod.
public struct PodRequest: Sendable, Equatable {
    /// The sum of the containers' requests.
    public var requested: Resources
    /// The same, with kube-scheduler's defaults for containers that request nothing (100m CPU,
    /// 200 MiB memory) — what the LeastAllocated score uses.
    public var nonZero: Resources
    var hostPorts: [HostPort]
    var images: [String]

    public static let defaultMilliCPU: Int128 = 100
    public static let defaultMemory: Int128 = 200 * 1024 * 1024

    public init(_ pod: Pod) {
        // kube-scheduler's effective request (component-helpers' PodRequests): the containers run
        // together; each init container runs alone before them, beside the sidecars (init containers
        // with restartPolicy Always) started before it, which then run on with the containers. The
        // pod needs the larger of the two per resource, plus its overhead; the non-zero variant gives
        // containers that request no CPU or memory kube-scheduler's defaults.
        func requests(_ c: Container, nonZero: Bool) -> Resources {
            var r = Resources(c.resources?.requests ?? [:])
            if nonZero {
                if c.resources?.requests?["cpu"] == nil { r.milliCPU = Self.defaultMilliCPU }
                if c.resources?.requests?["memory"] == nil { r.memory = Self.defaultMemory }
            }
            return r
        }
        func effective(nonZero: Bool) -> Resources {
            var sum = Resources(), sidecars = Resources(), initPeak = Resources()
            for c in pod.spec.containers { sum = sum + requests(c, nonZero: nonZero) }
            for c in pod.spec.initContainers ?? [] {
                let own = requests(c, nonZero: nonZero)
                if c.restartPolicy == "Always" {
                    sum = sum + own
                    sidecars = sidecars + own
                    initPeak = Resources.maximum(initPeak, sidecars)
                } else {
                    initPeak = Resources.maximum(initPeak, own + sidecars)
                }
            }
            var total = Resources.maximum(sum, initPeak) + Resources(pod.spec.overhead ?? [:])
            total.pods = 1
            return total
        }
        var ports: [HostPort] = []
        for c in pod.spec.containers {
            for p in c.ports ?? [] where (p.hostPort ?? 0) > 0 {
                ports.append(HostPort(proto: p.protocol ?? "TCP", ip: p.hostIP ?? "0.0.0.0", port: p.hostPort!))
            }
        }
        let r = effective(nonZero: false), nz = effective(nonZero: true)
        requested = r
        nonZero = nz
        hostPorts = ports
        // ImageLocality counts the init containers' images too, as kube-scheduler does.
        images = ((pod.spec.initContainers ?? []) + pod.spec.containers).compactMap { $0.image }.map(NodeInfo.normalizedImage)
    }
}

/// A pod on a node, as the scheduler's plugins see it: what it takes, its labels, priority and
/// pod (anti-)affinity. Immutable and shared: the plugins walk every pod of every node in an
/// attempt, and a reference costs one retain where a copy costs one per field.
public final class PodInfo: Sendable, Equatable {
    public let namespace: String
    public let name: String
    /// `namespace/name`.
    public let key: String
    public let labels: [String: String]
    public let request: PodRequest
    public let priority: Int32
    /// The pod's affinity and anti-affinity terms, resolved once (nil: it has none).
    let terms: PodAffinityTerms?
    /// Deleted and waiting for its grace period (not counted by topology spread).
    public let terminating: Bool
    /// `status.startTime` (RFC 3339), which preemption compares.
    public let startTime: String?

    public init(_ pod: Pod) {
        namespace = pod.metadata.namespace ?? "default"
        name = pod.metadata.name ?? ""
        key = namespace + "/" + name
        labels = pod.metadata.labels ?? [:]
        request = PodRequest(pod)
        priority = pod.spec.priority ?? 0
        terms = PodAffinityTerms(pod)
        terminating = pod.metadata.deletionTimestamp != nil
        startTime = pod.status?.startTime
    }

    var hasAffinityTerms: Bool { terms != nil }
    var hasRequiredAntiAffinity: Bool { !(terms?.requiredAntiAffinity.isEmpty ?? true) }

    public static func == (a: PodInfo, b: PodInfo) -> Bool {
        a === b || (a.key == b.key && a.labels == b.labels && a.request == b.request && a.priority == b.priority
                    && a.terms == b.terms && a.terminating == b.terminating && a.startTime == b.startTime)
    }
}

/// One node as the scheduler sees it: its allocatable resources and what the pods assigned to
/// it already take. A reference type, so the scheduler's sorted node list is updated in place.
public final class NodeInfo {
    public let name: String
    public private(set) var node: Node
    public private(set) var allocatable: Resources
    public var requested = Resources()
    public var nonZeroRequested = Resources()
    var usedPorts: [HostPort: Int] = [:]
    /// Image name → size in bytes, of images present on the node.
    private(set) var images: [String: Int64] = [:]
    public private(set) var labels: [String: String] = [:]
    private(set) var taints: [Taint] = []
    private(set) var unschedulable = false

    /// The node, reporting its pods' labels to `labelIndex` when given (the scheduler's).
    public init(_ node: Node, labelIndex: LabelIndex? = nil) {
        self.labelIndex = labelIndex
        name = node.metadata.name ?? ""
        self.node = node
        allocatable = Resources()
        update(node)
    }

    /// Takes a new version of the node (requests of assigned pods stay).
    public func update(_ node: Node) {
        self.node = node
        let a = node.status?.allocatable ?? node.status?.capacity ?? [:]
        allocatable = Resources(a, pods: Int128(a["pods"]?.value ?? 110))
        var images: [String: Int64] = [:]
        for image in node.status?.images ?? [] {
            for n in image.names ?? [] { images[Self.normalizedImage(n)] = image.sizeBytes ?? 0 }
        }
        self.images = images
        labels = node.metadata.labels ?? [:]
        taints = node.spec?.taints ?? []
        unschedulable = node.spec?.unschedulable ?? false
    }

    /// The pods assigned to the node, by `namespace/name`.
    public private(set) var pods: [String: PodInfo] = [:]
    /// How many of them have pod affinity or anti-affinity terms; how many required anti-affinity.
    private(set) var podsWithAffinity = 0, podsWithRequiredAntiAffinity = 0
    /// How many of them carry each label, by namespace: lets a selector that no pod here can match
    /// skip the pods.
    private var labelled: [PodLabel: Int] = [:]

    /// A label of a pod in a namespace.
    struct PodLabel: Hashable {
        var namespace: String
        var key: String
        var value: String
    }

    /// Where the node is in the snapshot that last listed it (-1: in none yet): lets plugins read
    /// per-node arrays instead of hashing labels.
    var position = -1

    /// The cluster-wide index this node reports its pods' labels to (the scheduler's; nil for a
    /// node on its own, or a copy being tried by preemption).
    var labelIndex: LabelIndex?

    /// How many pods here in `namespace` carry `key=value`.
    func pods(in namespace: String, labelled key: String, _ value: String) -> Int {
        labelled[PodLabel(namespace: namespace, key: key, value: value)] ?? 0
    }

    private func count(_ pod: PodInfo, _ delta: Int) {
        for (k, v) in pod.labels {
            let label = PodLabel(namespace: pod.namespace, key: k, value: v)
            let n = (labelled[label] ?? 0) + delta
            labelled[label] = n == 0 ? nil : n
            labelIndex?.set(label, on: name, present: n > 0)
        }
    }

    /// A node with the same state, to change without changing this one.
    func copy() -> NodeInfo {
        let c = NodeInfo(node)
        c.position = position
        for p in pods.values { c.add(p) }
        return c
    }

    /// Counts a pod assigned to the node (a pod already counted is replaced).
    public func add(_ pod: PodInfo) {
        remove(pod.key)
        let p = pod.request
        requested = requested + p.requested
        nonZeroRequested = nonZeroRequested + p.nonZero
        for port in p.hostPorts { usedPorts[port, default: 0] += 1 }
        pods[pod.key] = pod
        count(pod, 1)
        for term in pod.terms?.requiredAntiAffinity ?? [] { labelIndex?.count(term, on: name, 1) }
        if pod.hasAffinityTerms { podsWithAffinity += 1 }
        if pod.hasRequiredAntiAffinity { podsWithRequiredAntiAffinity += 1 }
    }

    /// Forgets a pod that left the node.
    public func remove(_ key: String) {
        guard let pod = pods.removeValue(forKey: key) else { return }
        count(pod, -1)
        for term in pod.terms?.requiredAntiAffinity ?? [] { labelIndex?.count(term, on: name, -1) }
        let p = pod.request
        requested = requested - p.requested
        nonZeroRequested = nonZeroRequested - p.nonZero
        for port in p.hostPorts {
            usedPorts[port, default: 0] -= 1
            if usedPorts[port]! <= 0 { usedPorts[port] = nil }
        }
        if pod.hasAffinityTerms { podsWithAffinity -= 1 }
        if pod.hasRequiredAntiAffinity { podsWithRequiredAntiAffinity -= 1 }
    }

    func portInUse(_ p: HostPort) -> Bool { usedPorts.keys.contains { $0.conflicts(with: p) } }

    /// `nginx` → `nginx:latest`; names with a tag or digest stay as they are.
    static func normalizedImage(_ name: String) -> String {
        let last = name.split(separator: "/").last ?? ""
        return last.contains(":") || name.contains("@") ? name : name + ":latest"
    }
}
