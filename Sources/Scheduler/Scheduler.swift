import ClusterModel
import ControlPlane
import HeapModule
import Journal

/// kube-scheduler as a component: a queue of unscheduled pods (priority, then arrival), back-off
/// for unschedulable pods with a retry when the cluster changes, and for each attempt a
/// `SchedulingDecided` event, naming the profile that decided, before the binding. A bound pod is
/// counted on its node at once ("assumed", as kube-scheduler does), so one step can schedule many
/// pods. Pods choose a profile by `spec.schedulerName`; pods naming none of its profiles are left
/// to another scheduler.
public final class SchedulerComponent: Component {
    public let name = "scheduler"
    public static let actor = Actor(kind: "scheduler", name: SchedulerProfile.defaultName)
    let seed: UInt64
    /// The profiles, by scheduler name.
    let profiles: [String: SchedulerProfile]

    /// Back-off after failed attempts: 1 s, doubling, at most 10 s (kube-scheduler's defaults).
    static let initialBackoff: Int64 = 1_000_000, maxBackoff: Int64 = 10_000_000
    /// Unschedulable pods are retried after this long even if nothing changed.
    static let unschedulableTimeout: Int64 = 300_000_000
    /// Pods scheduled per step at most (the driver shows the results to the others in between).
    static let batch = 256

    private struct Queued {
        var priority: Int32
        var arrival: UInt64
        var trigger: UInt64
        var attempts = 0
        var backoffUntil: Timestamp?
        var failedEpoch: UInt64?
        var failedAt: Timestamp?
        var lastMessage: String?
        var waiting: Bool { failedAt != nil }
        /// Whether the pod has required pod affinity: a pod bound anywhere may make it schedulable.
        var needsPods = false
    }

    /// Active-queue order: higher priority first, then earlier arrival, then key.
    private struct Ready: Comparable {
        var priority: Int32
        var arrival: UInt64
        var key: ObjectKey
        static func < (a: Ready, b: Ready) -> Bool { (-Int64(a.priority), a.arrival, a.key) < (-Int64(b.priority), b.arrival, b.key) }
    }

    private var nodes: [String: NodeInfo] = [:]
    private var sortedNodes: [NodeInfo]?
    /// The nodes' topology domains, numbered; replaced when nodes or their labels change.
    private var topology = TopologyIndexes()
    /// Which nodes hold pods with each label (the nodes keep it current).
    private let labelIndex = LabelIndex()
    private var imageNodes: [String: Int]?
    private var contributions: [ObjectKey: (node: String, pod: PodInfo)] = [:]
    private var namespaceLabels: [String: [String: String]] = [:]
    private var workloads = WorkloadSelectors()
    /// Unbound pods nominated to a node by preemption.
    private var nominated: [ObjectKey: (node: String, pod: PodInfo)] = [:]
    /// Pods waiting after an attempt that need other pods (required pod affinity).
    private var waitingForPods = Set<ObjectKey>()
    /// Claims, volumes and classes, for VolumeBinding.
    private var volumes = VolumeFacts()
    /// Profiles whose configuration the journal does not hold yet (written before any decision).
    private var unrecorded: [ProfileConfiguration] = []
    private var queued: [ObjectKey: Queued] = [:]
    private var ready = Heap<Ready>()
    private var startIndex = 0
    /// Bumped by every change that can make an unschedulable pod schedulable.
    private var epoch: UInt64 = 0
    /// The revision of the latest such change: the trigger of the retries it causes.
    private var epochRevision: UInt64 = 0

    private func clusterChanged(at revision: UInt64) {
        epoch += 1
        epochRevision = revision
    }

    /// A scheduler with `profiles` (kube-scheduler's default profile if none), picking among tied
    /// nodes with `seed`.
    public init(seed: UInt64, profiles: [SchedulerProfile] = [.kubeDefault]) {
        self.seed = seed
        var byName: [String: SchedulerProfile] = [:]
        for p in profiles where byName[p.schedulerName] == nil { byName[p.schedulerName] = p }
        self.profiles = byName
    }

    public func observe(_ event: Event, cache: ObjectCache) {
        let key = event.object.key
        switch event.object.kind {
        case Node.kind: observeNode(event, cache)
        case Pod.kind: observePod(event, cache)
        case Namespace.kind:
            let labels = cache.get(Namespace.self, name: key.name)?.metadata.labels
            if namespaceLabels[key.name] != labels {
                namespaceLabels[key.name] = labels
                clusterChanged(at: event.revision)
            }
        case Service.kind:
            workloads.setService(namespace: key.namespace, name: key.name,
                                 selector: cache.get(Service.self, namespace: key.namespace, name: key.name)?.spec?.selector)
        case ReplicaSet.kind:
            workloads.setReplicaSet(namespace: key.namespace, name: key.name,
                                    selector: cache.get(ReplicaSet.self, namespace: key.namespace, name: key.name).map { LabelSelectorExpression($0.spec.selector) })
        case PersistentVolumeClaim.kind:
            if volumes.set(claim: cache.get(PersistentVolumeClaim.self, namespace: key.namespace, name: key.name), namespace: key.namespace, name: key.name) {
                clusterChanged(at: event.revision)
            }
        case PersistentVolume.kind:
            if volumes.set(volume: cache.get(PersistentVolume.self, name: key.name), name: key.name) { clusterChanged(at: event.revision) }
        case StorageClass.kind:
            if volumes.set(storageClass: cache.get(StorageClass.self, name: key.name), name: key.name) { clusterChanged(at: event.revision) }
        default: break
        }
    }

    private func nodesChanged() {
        sortedNodes = nil
        imageNodes = nil
        topology = TopologyIndexes()
    }

    private func observeNode(_ event: Event, _ cache: ObjectCache) {
        let name = event.object.name
        guard let node = cache.get(Node.self, name: name) else {
            if nodes.removeValue(forKey: name) != nil { clusterChanged(at: event.revision); nodesChanged() }
            return
        }
        if let info = nodes[name] {
            let relevant = info.node.spec != node.spec || info.node.metadata.labels != node.metadata.labels
                || info.node.status?.allocatable != node.status?.allocatable || info.node.status?.images != node.status?.images
            info.update(node)
            if relevant {
                clusterChanged(at: event.revision)
                imageNodes = nil
                topology = TopologyIndexes()
            }
        } else {
            nodes[name] = NodeInfo(node, labelIndex: labelIndex)
            clusterChanged(at: event.revision)
            nodesChanged()
        }
    }

    private func observePod(_ event: Event, _ cache: ObjectCache) {
        let key = event.object.key
        let pod = cache.get(Pod.self, namespace: key.namespace, name: key.name)
        let terminal = pod.map { ["Succeeded", "Failed"].contains($0.status?.phase ?? "") } ?? true
        let wanted: (String, PodInfo)? = pod.flatMap { p in
            guard let node = p.spec.nodeName, !node.isEmpty, !terminal else { return nil }
            return (node, PodInfo(p))
        }
        if let old = contributions[key], old.node != wanted?.0 || wanted == nil {
            nodes[old.node]?.remove(old.pod.key)
            contributions[key] = nil
            clusterChanged(at: event.revision)
        }
        if let pod, (pod.spec.nodeName ?? "").isEmpty, !terminal, let node = pod.status?.nominatedNodeName, !node.isEmpty {
            nominated[key] = (node, PodInfo(pod))
        } else if nominated.removeValue(forKey: key) != nil {
            clusterChanged(at: event.revision)
        }
        if let (node, info) = wanted, contributions[key]?.pod != info {
            assume(key, node: node, pod: info)
            if !waitingForPods.isEmpty { clusterChanged(at: event.revision) }
        }
        guard let pod, (pod.spec.nodeName ?? "").isEmpty, !terminal, pod.metadata.deletionTimestamp == nil,
              profiles[pod.spec.schedulerName ?? SchedulerProfile.defaultName] != nil
        else {
            waitingForPods.remove(key)
            queued[key] = nil
            return
        }
        if queued[key] == nil {
            let q = Queued(priority: pod.spec.priority ?? 0, arrival: event.revision, trigger: event.revision)
            queued[key] = q
            ready.insert(Ready(priority: q.priority, arrival: q.arrival, key: key))
        }
    }

    /// Counts the pod on its node now, before its binding comes back through the journal.
    private func assume(_ key: ObjectKey, node: String, pod: PodInfo) {
        nodes[node]?.add(pod)
        contributions[key] = (node, pod)
    }

    private func eligibleAt(_ q: Queued) -> Timestamp {
        guard let failedEpoch = q.failedEpoch, let failedAt = q.failedAt, let backoff = q.backoffUntil else {
            return Timestamp(microseconds: .min)
        }
        return epoch > failedEpoch ? backoff : max(backoff, failedAt.adding(microseconds: Self.unschedulableTimeout))
    }

    /// Carries on from the journal: each pod still waiting keeps its attempt count and, if its
    /// last attempt found no node, the back-off that attempt earned (counted from the attempt).
    public func resume(from view: JournalView, cache: ObjectCache, now: Timestamp) throws {
        unrecorded = []
        for name in profiles.keys.sorted() {
            let p = profiles[name]!.configuration
            if SchedulerConfigurations.isKnown(p) { continue }
            if try SchedulerConfigurations.recordedDigest(name, in: view) != p.digest { unrecorded.append(p) }
        }
        for key in queued.keys.sorted() {
            guard var q = queued[key] else { continue }
            var last: (event: Event, data: SchedulingDecision)?
            for r in try view.history(of: key).reversed() {
                guard let e = try view.event(at: r), let data = SchedulingDecision.from(e) else { continue }
                last = (e, data)
                break
            }
            guard let (event, data) = last, let attempt = data.attempt.flatMap({ Int(exactly: $0) }), attempt > 0 else { continue }
            q.attempts = attempt
            if data.outcome == .unschedulable {
                q.failedEpoch = epoch
                q.failedAt = event.time
                q.backoffUntil = event.time.adding(microseconds: min(Self.maxBackoff, Self.initialBackoff << min(attempt - 1, 20)))
                q.lastMessage = data.message
                q.trigger = event.revision
            }
            queued[key] = q
        }
    }

    public func nextWakeup() -> Timestamp? {
        if !unrecorded.isEmpty { return Timestamp(microseconds: .min) }
        if let top = ready.min, queued[top.key].map({ !$0.waiting }) == true { return Timestamp(microseconds: .min) }
        return queued.values.filter(\.waiting).map(eligibleAt).min()
    }

    /// The nodes as the scheduler sees them now, sorted by name.
    public var nodeInfos: [NodeInfo] {
        if let sortedNodes { return sortedNodes }
        let s = nodes.values.sorted { $0.name < $1.name }
        sortedNodes = s
        return s
    }

    public func step(_ context: ComponentContext) async throws -> Bool {
        if !unrecorded.isEmpty {
            for p in unrecorded { _ = try await context.store.record(SchedulerConfigurations.draft(p, time: context.now, actor: Self.actor)) }
            unrecorded = []
            return true
        }
        // Pods whose back-off is over go back into the active queue; one moved by a cluster
        // change names that change as the trigger of its next attempt.
        for (key, q) in queued where q.waiting && eligibleAt(q) <= context.now {
            var q = q
            if let failedEpoch = q.failedEpoch, epoch > failedEpoch { q.trigger = epochRevision }
            q.failedAt = nil
            waitingForPods.remove(key)
            queued[key] = q
            ready.insert(Ready(priority: q.priority, arrival: q.arrival, key: key))
        }
        var scheduled = 0
        while scheduled < Self.batch, let next = ready.popMin() {
            guard let q = queued[next.key], !q.waiting, q.arrival == next.arrival else { continue }
            guard let pod = context.cache.get(Pod.self, namespace: next.key.namespace, name: next.key.name) else {
                queued[next.key] = nil
                continue
            }
            do {
                try Task.checkCancellation()
                try await attempt(pod, next.key, q, context)
            } catch {
                // Not scheduled (a write failed, or shutdown): the pod stays at the front of the queue.
                if queued[next.key] != nil { ready.insert(next) }
                throw error
            }
            scheduled += 1
        }
        return scheduled > 0
    }

    /// DefaultPreemption's `prepareCandidate`: each victim gets the `DisruptionTarget` condition, is
    /// deleted with its grace period, and gets a `Preempted` Event — each write caused by the
    /// scheduling decision that chose it.
    private func preempt(_ victims: [PreemptionResult.Victim], on node: String, for pod: Pod, profile: SchedulerProfile,
                         origin: Store.Origin, _ context: ComponentContext) async throws {
        for v in victims {
            guard var victim = context.cache.get(Pod.self, namespace: v.namespace, name: v.name), victim.metadata.deletionTimestamp == nil else { continue }
            victim.metadata.resourceVersion = nil
            var status = victim.status ?? PodStatus(phase: "Pending")
            var conditions = (status.conditions ?? []).filter { $0.type != "DisruptionTarget" }
            conditions.append(PodCondition(type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler",
                                           message: "\(profile.schedulerName): preempting to accommodate a higher priority pod",
                                           lastTransitionTime: context.now.kubernetesTime))
            status.conditions = conditions
            victim.status = status
            do {
                let marked = try await context.store.updateStatus(victim, by: origin)
                _ = try await context.store.delete(.pod, namespace: v.namespace, name: v.name, by: origin)
                try await context.recordEvent(
                    about: marked, reason: "Preempted", message: "Preempted by pod \(pod.metadata.uid ?? "") on node \(node)",
                    component: profile.schedulerName, by: Self.actor, cause: origin.cause)
            } catch let error as StatusError where error.reason == .notFound {
                continue  // already gone
            }
        }
    }

    private func attempt(_ pod: Pod, _ key: ObjectKey, _ queuedPod: Queued, _ context: ComponentContext) async throws {
        let store = context.store
        let attempt = queuedPod.attempts + 1
        let nodes = nodeInfos
        if imageNodes == nil { imageNodes = ClusterSnapshot.imageNodes(nodes) }
        let profile = profiles[pod.spec.schedulerName ?? SchedulerProfile.defaultName] ?? .kubeDefault
        var reserved: [String: [PodInfo]] = [:]
        for key in nominated.keys.sorted() { let n = nominated[key]!; reserved[n.node, default: []].append(n.pod) }
        let cluster = ClusterSnapshot(nodes: nodes, imageNodes: imageNodes, namespaceLabels: namespaceLabels, workloads: workloads, nominated: reserved,
                                      volumes: volumes, topology: topology, labels: labelIndex)
        let result = SchedulingAlgorithm.run(pod: pod, cluster: cluster, profile: profile, seed: seed, startIndex: startIndex % max(1, nodes.count))
        startIndex = (startIndex + result.searched) % max(1, nodes.count)
        let decision = try await context.decide(result.decision(pod: pod, attempt: attempt), by: Self.actor, about: pod.objectRef, trigger: queuedPod.trigger)
        let origin = Store.Origin(Self.actor, cause: decision)
        if let node = result.chosen {
            queued[key] = nil
            var assumed = pod
            assumed.spec.nodeName = node
            assume(key, node: node, pod: PodInfo(assumed))
            let bound = try await store.bind(namespace: key.namespace, pod: key.name, to: node, by: origin)
            try await context.recordEvent(
                about: bound, reason: "Scheduled", message: "Successfully assigned \(key.namespace)/\(key.name) to \(node)",
                component: profile.schedulerName, by: Self.actor, cause: decision)
            return
        }
        let message = result.unschedulableMessage
        let nominated = result.preemption?.node
        if let nominated, let victims = result.preemption?.victims {
            // Held for the pod at once: the rest of this step's pods must not take the room.
            self.nominated[key] = (nominated, PodInfo(pod))
            try await preempt(victims, on: nominated, for: pod, profile: profile, origin: origin, context)
        }
        var q = queuedPod
        q.attempts = attempt
        q.failedEpoch = epoch
        q.failedAt = context.now
        q.backoffUntil = context.now.adding(microseconds: min(Self.maxBackoff, Self.initialBackoff << min(attempt - 1, 20)))
        let repeated = q.lastMessage == message
        q.lastMessage = message
        queued[key] = q
        if !(pod.spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).isEmpty { waitingForPods.insert(key) }
        if !repeated || nominated != nil {
            var p = pod
            p.metadata.resourceVersion = nil
            var status = p.status ?? PodStatus(phase: "Pending")
            if let nominated { status.nominatedNodeName = nominated }
            var conditions = (status.conditions ?? []).filter { $0.type != "PodScheduled" }
            conditions.append(PodCondition(type: "PodScheduled", status: "False", reason: "Unschedulable", message: message, lastTransitionTime: context.now.kubernetesTime))
            status.conditions = conditions
            p.status = status
            _ = try await store.updateStatus(p, by: origin)
        }
        try await context.recordEvent(
            about: pod, reason: "FailedScheduling", message: message, type: "Warning",
            component: profile.schedulerName, by: Self.actor, cause: decision)
    }
}
