import ClusterModel

/// CPU in milli-cores, memory in bytes, and a pod count. 128-bit, so that any sum of quantities
/// (each at most `Quantity.maxMilli`) is exact: adding and removing pods never overflows or drifts.
public struct Resources: Sendable, Equatable {
    public var milliCPU: Int128 = 0
    public var memory: Int128 = 0
    public var pods: Int128 = 0

    public init(milliCPU: Int128 = 0, memory: Int128 = 0, pods: Int128 = 0) {
        self.milliCPU = milliCPU
        self.memory = memory
        self.pods = pods
    }

    static func + (a: Resources, b: Resources) -> Resources {
        Resources(milliCPU: a.milliCPU + b.milliCPU, memory: a.memory + b.memory, pods: a.pods + b.pods)
    }

    static func - (a: Resources, b: Resources) -> Resources {
        Resources(milliCPU: a.milliCPU - b.milliCPU, memory: a.memory - b.memory, pods: a.pods - b.pods)
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
        // kube-scheduler's effective request: the containers run together, the init containers one
        // at a time before them, so a pod needs the larger of the containers' sum and its largest
        // init container, per resource (and likewise with the non-zero defaults).
        func request(_ c: Container) -> (cpu: Int128?, memory: Int128?) {
            (c.resources?.requests?["cpu"]?.milli, c.resources?.requests?["memory"].map { Int128($0.value) })
        }
        var r = Resources(pods: 1), nz = Resources(pods: 1)
        var ports: [HostPort] = []
        for c in pod.spec.containers {
            let (cpu, memory) = request(c)
            r.milliCPU += cpu ?? 0
            r.memory += memory ?? 0
            nz.milliCPU += cpu ?? Self.defaultMilliCPU
            nz.memory += memory ?? Self.defaultMemory
            for p in c.ports ?? [] where (p.hostPort ?? 0) > 0 {
                ports.append(HostPort(proto: p.protocol ?? "TCP", ip: p.hostIP ?? "0.0.0.0", port: p.hostPort!))
            }
        }
        for c in pod.spec.initContainers ?? [] {
            let (cpu, memory) = request(c)
            r.milliCPU = max(r.milliCPU, cpu ?? 0)
            r.memory = max(r.memory, memory ?? 0)
            nz.milliCPU = max(nz.milliCPU, cpu ?? Self.defaultMilliCPU)
            nz.memory = max(nz.memory, memory ?? Self.defaultMemory)
        }
        requested = r
        nonZero = nz
        hostPorts = ports
        // ImageLocality counts the init containers' images too, as kube-scheduler does.
        images = ((pod.spec.initContainers ?? []) + pod.spec.containers).compactMap { $0.image }.map(NodeInfo.normalizedImage)
    }
}

/// A pod on a node, as the scheduler's plugins see it: what it takes, its labels, priority and
/// pod (anti-)affinity.
public struct PodInfo: Sendable, Equatable {
    public var namespace: String
    public var name: String
    public var labels: [String: String]
    public var request: PodRequest
    public var priority: Int32
    public var affinity: PodAffinity?
    public var antiAffinity: PodAffinity?
    /// Deleted and waiting for its grace period (not counted by topology spread).
    public var terminating: Bool
    /// `status.startTime` (RFC 3339), which preemption compares.
    public var startTime: String?

    public init(_ pod: Pod) {
        namespace = pod.metadata.namespace ?? "default"
        name = pod.metadata.name ?? ""
        labels = pod.metadata.labels ?? [:]
        request = PodRequest(pod)
        priority = pod.spec.priority ?? 0
        affinity = pod.spec.affinity?.podAffinity
        antiAffinity = pod.spec.affinity?.podAntiAffinity
        terminating = pod.metadata.deletionTimestamp != nil
        startTime = pod.status?.startTime
    }

    /// `namespace/name`.
    public var key: String { namespace + "/" + name }
    var hasAffinityTerms: Bool { affinity != nil || antiAffinity != nil }
    var hasRequiredAntiAffinity: Bool { !(antiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).isEmpty }
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

    public init(_ node: Node) {
        name = node.metadata.name ?? ""
        self.node = node
        allocatable = Resources()
        update(node)
    }

    /// Takes a new version of the node (requests of assigned pods stay).
    public func update(_ node: Node) {
        self.node = node
        let a = node.status?.allocatable ?? node.status?.capacity ?? [:]
        allocatable = Resources(milliCPU: a["cpu"]?.milli ?? 0, memory: Int128(a["memory"]?.value ?? 0), pods: Int128(a["pods"]?.value ?? 110))
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

    /// A node with the same state, to change without changing this one.
    func copy() -> NodeInfo {
        let c = NodeInfo(node)
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
        if pod.hasAffinityTerms { podsWithAffinity += 1 }
        if pod.hasRequiredAntiAffinity { podsWithRequiredAntiAffinity += 1 }
    }

    /// Forgets a pod that left the node.
    public func remove(_ key: String) {
        guard let pod = pods.removeValue(forKey: key) else { return }
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
