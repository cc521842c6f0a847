import ClusterModel

/// What the scheduler knows of claims and volumes: each claim's class and the volume it is bound
/// to, each volume's required node affinity, and each class's binding mode — what the
/// VolumeBinding plugin needs.
public struct VolumeFacts: Sendable, Equatable {
    struct Claim: Sendable, Equatable {
        var storageClass: String
        var volume: String?
    }

    /// namespace → claim name → what it is.
    var claims: [String: [String: Claim]] = [:]
    /// volume name → the node selector terms its `nodeAffinity.required` names (nil: any node).
    var volumeNodes: [String: [NodeSelectorTerm]] = [:]
    /// class name → `volumeBindingMode`.
    var bindingModes: [String: String] = [:]

    public init() {}

    /// Takes a claim as it now is (nil: gone); returns whether anything changed.
    @discardableResult
    public mutating func set(claim: PersistentVolumeClaim?, namespace: String, name: String) -> Bool {
        let new = claim.map { Claim(storageClass: $0.spec?.storageClassName ?? "", volume: $0.status?.phase == "Bound" ? $0.spec?.volumeName : nil) }
        guard claims[namespace]?[name] != new else { return false }
        claims[namespace, default: [:]][name] = new
        return true
    }

    /// Takes a volume as it now is (nil: gone).
    @discardableResult
    public mutating func set(volume: PersistentVolume?, name: String) -> Bool {
        let terms = volume?.spec?.nodeAffinity?["required"].flatMap { try? ValueDecoder(strict: false).decode(NodeSelector.self, from: $0) }?.nodeSelectorTerms
        guard volumeNodes[name] != terms else { return false }
        volumeNodes[name] = terms
        return true
    }

    /// Takes a class as it now is (nil: gone).
    @discardableResult
    public mutating func set(storageClass: StorageClass?, name: String) -> Bool {
        let mode = storageClass.map { $0.volumeBindingMode ?? "Immediate" }
        guard bindingModes[name] != mode else { return false }
        bindingModes[name] = mode
        return true
    }
}

/// kube-scheduler's VolumeBinding filter: a pod's claims must exist; a claim not yet bound must
/// wait for its first consumer (its class's `WaitForFirstConsumer`), else the pod waits for the
/// claim to bind; a bound claim's volume must allow the node (its required node affinity).
struct VolumeBindingPlugin: FilterPlugin {
    let name = PluginName.volumeBinding
    static let unboundImmediate = "pod has unbound immediate PersistentVolumeClaims"
    static let nodeConflict = "node(s) had volume node affinity conflict"

    func claims(_ cycle: SchedulingCycle) -> [String] {
        (cycle.pod.spec.volumes ?? []).compactMap { $0.persistentVolumeClaim?.claimName }
    }

    func preFilter(_ cycle: SchedulingCycle) -> Rejection? {
        let ns = cycle.pod.metadata.namespace ?? "default"
        let facts = cycle.cluster.volumes
        for name in claims(cycle) {
            guard let claim = facts.claims[ns]?[name] else {
                return Rejection(self.name, ["persistentvolumeclaim \"\(name)\" not found"], resolvable: false)
            }
            if claim.volume == nil, facts.bindingModes[claim.storageClass] != "WaitForFirstConsumer" {
                return Rejection(self.name, [Self.unboundImmediate], resolvable: false)
            }
        }
        return nil
    }

    func filter(_ cycle: SchedulingCycle, _ node: NodeInfo) -> Rejection? {
        let ns = cycle.pod.metadata.namespace ?? "default"
        let facts = cycle.cluster.volumes
        for name in claims(cycle) {
            guard let volume = facts.claims[ns]?[name]?.volume, let terms = facts.volumeNodes[volume] else { continue }
            if !terms.contains(where: { NodeAffinityPlugin.matches($0, labels: node.labels, name: node.name) }) {
                return Rejection(self.name, [Self.nodeConflict], resolvable: false)
            }
        }
        return nil
    }
}
