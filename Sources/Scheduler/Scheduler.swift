import ClusterModel
import ControlPlane
import Journal

/// kube-scheduler as a component: a queue of unscheduled pods (priority, then arrival), back-off
/// for unschedulable pods with a retry when the cluster changes, and for each attempt a
/// `SchedulingDecided` event before the binding.
public final class SchedulerComponent: Component {
    public let name = "scheduler"
    public static let actor = Actor(kind: "scheduler", name: SchedulingAlgorithm.profileName)
    let seed: UInt64

    /// Back-off after failed attempts: 1 s, doubling, at most 10 s (kube-scheduler's defaults).
    static let initialBackoff: Int64 = 1_000_000, maxBackoff: Int64 = 10_000_000
    /// Unschedulable pods are retried after this long even if nothing changed.
    static let unschedulableTimeout: Int64 = 300_000_000

    private struct Queued {
        var priority: Int32
        var arrival: UInt64
        var trigger: UInt64
        var attempts = 0
        var backoffUntil: Timestamp?
        var failedEpoch: UInt64?
        var failedAt: Timestamp?
        var lastMessage: String?
    }

    private var nodes: [String: NodeInfo] = [:]
    private var contributions: [ObjectKey: (node: String, request: PodRequest)] = [:]
    private var queue: [ObjectKey: Queued] = [:]
    /// Bumped by every change that can make an unschedulable pod schedulable.
    private var epoch: UInt64 = 0
    private var now = Timestamp(microseconds: 0)

    public init(seed: UInt64) { self.seed = seed }

    public func observe(_ event: Event, cache: ObjectCache) {
        now = max(now, event.time)
        switch event.object.kind {
        case Node.kind: observeNode(event, cache)
        case Pod.kind: observePod(event, cache)
        default: break
        }
    }

    private func observeNode(_ event: Event, _ cache: ObjectCache) {
        let name = event.object.name
        guard let node = cache.get(Node.self, name: name) else {
            if nodes.removeValue(forKey: name) != nil { epoch += 1 }
            return
        }
        var info = NodeInfo(node)
        if let old = nodes[name] {
            info.requested = old.requested
            info.nonZeroRequested = old.nonZeroRequested
            info.usedPorts = old.usedPorts
            let relevant = old.node.spec != node.spec || old.node.metadata.labels != node.metadata.labels
                || old.allocatable != info.allocatable || old.images != info.images
            if relevant { epoch += 1 }
        } else {
            epoch += 1
        }
        nodes[name] = info
    }

    private func observePod(_ event: Event, _ cache: ObjectCache) {
        let key = event.object.key
        let pod = cache.get(Pod.self, namespace: key.namespace, name: key.name)
        let terminal = pod.map { ["Succeeded", "Failed"].contains($0.status?.phase ?? "") } ?? true
        // Resources taken on a node.
        let wanted: (String, PodRequest)? = pod.flatMap { p in
            guard let node = p.spec.nodeName, !node.isEmpty, !terminal else { return nil }
            return (node, PodRequest(p))
        }
        if let old = contributions[key], old.node != wanted?.0 || wanted == nil {
            nodes[old.node]?.remove(old.request)
            contributions[key] = nil
            epoch += 1
        }
        if let (node, request) = wanted, contributions[key] == nil {
            nodes[node]?.add(request)
            contributions[key] = (node, request)
        }
        // The queue.
        guard let pod, (pod.spec.nodeName ?? "").isEmpty, !terminal, pod.metadata.deletionTimestamp == nil,
              (pod.spec.schedulerName ?? SchedulingAlgorithm.profileName) == SchedulingAlgorithm.profileName
        else {
            queue[key] = nil
            return
        }
        if queue[key] == nil {
            queue[key] = Queued(priority: pod.spec.priority ?? 0, arrival: event.revision, trigger: event.revision)
        }
    }

    private func eligibleAt(_ q: Queued) -> Timestamp {
        guard let failedEpoch = q.failedEpoch, let failedAt = q.failedAt, let backoff = q.backoffUntil else {
            return Timestamp(microseconds: .min)
        }
        return epoch > failedEpoch ? backoff : max(backoff, failedAt.adding(microseconds: Self.unschedulableTimeout))
    }

    public func nextWakeup() -> Timestamp? {
        queue.values.map(eligibleAt).min()
    }

    /// The nodes as the scheduler sees them now.
    public var nodeInfos: [NodeInfo] { nodes.values.sorted { $0.name < $1.name } }

    public func step(_ context: ComponentContext) async throws -> Bool {
        now = context.now
        // The next pod: highest priority, then first to arrive, among those due.
        guard let (key, queued) = queue.filter({ eligibleAt($0.value) <= context.now })
            .min(by: { ($1.value.priority, $0.value.arrival) < ($0.value.priority, $1.value.arrival) })
        else { return false }
        let store = context.store
        guard let pod = context.cache.get(Pod.self, namespace: key.namespace, name: key.name) else {
            queue[key] = nil
            return false
        }
        let attempt = queued.attempts + 1
        let result = SchedulingAlgorithm.run(pod: pod, nodes: nodeInfos, seed: seed)
        let decision = try await context.decide(
            DecisionType.scheduling, by: Self.actor, about: pod.objectRef, trigger: queued.trigger,
            result.decisionData(pod: pod, attempt: attempt))
        let origin = Store.Origin(Self.actor, cause: decision)
        if let node = result.chosen {
            queue[key] = nil
            let bound = try await store.bind(namespace: key.namespace, pod: key.name, to: node, by: origin)
            try await context.recordEvent(
                about: bound, reason: "Scheduled", message: "Successfully assigned \(key.namespace)/\(key.name) to \(node)",
                component: SchedulingAlgorithm.profileName, by: Self.actor, cause: decision)
            return true
        }
        let message = result.unschedulableMessage
        var q = queued
        q.attempts = attempt
        q.failedEpoch = epoch
        q.failedAt = context.now
        q.backoffUntil = context.now.adding(microseconds: min(Self.maxBackoff, Self.initialBackoff << min(attempt - 1, 20)))
        let repeated = q.lastMessage == message
        q.lastMessage = message
        queue[key] = q
        if !repeated {
            var p = pod
            var status = p.status ?? PodStatus(phase: "Pending")
            var conditions = (status.conditions ?? []).filter { $0.type != "PodScheduled" }
            conditions.append(PodCondition(type: "PodScheduled", status: "False", reason: "Unschedulable", message: message, lastTransitionTime: context.now.kubernetesTime))
            status.conditions = conditions
            p.status = status
            _ = try await store.updateStatus(p, by: origin)
        }
        try await context.recordEvent(
            about: pod, reason: "FailedScheduling", message: message, type: "Warning",
            component: SchedulingAlgorithm.profileName, by: Self.actor, cause: decision)
        return true
    }
}
