import ClusterModel
import ControlPlane
import Journal

/// Watches node heartbeats: the renewals of each node's Lease in `kube-node-lease` and the status
/// its kubelet posts, whichever is later. A node silent for the monitor grace period (50 s) gets Ready=Unknown
/// and the `node.kubernetes.io/unreachable` taints (`not-ready` when its kubelet reports
/// Ready=False); a node whose kubelet reports Ready again loses them. Pods on a node with a
/// NoExecute taint they do not tolerate are evicted — at once, or after their `tolerationSeconds`
/// (300 s for the defaults every pod gets).
public final class NodeLifecycleController: Component {
    public let name = "node-lifecycle"
    static let actor = Actor(kind: "controller", name: "node-lifecycle")
    /// kube-controller-manager's default `--node-monitor-grace-period` (Kubernetes 1.32): 50 s.
    public static let defaultMonitorGracePeriod: Int64 = 50_000_000
    /// How long a node may be silent before it is Unknown, in microseconds.
    let monitorGracePeriod: Int64

    /// Each node's last heartbeat: its time, and the revision that carried it (what a node's
    /// silence is measured from, and so the trigger of marking it unreachable).
    private var heartbeats: [String: (time: Timestamp, revision: UInt64)] = [:]
    /// Nodes whose Ready condition is not already Unknown: only their silence is news.
    private var watched: Set<String> = []
    private var dirtyNodes: [String: UInt64] = [:]
    /// Evictions planned: when, for which taint, after how long a toleration, and since when the
    /// controller has known the pod must go (the start of its toleration, as the taint eviction
    /// controller counts it).
    private var evictions: [ObjectKey: (at: Timestamp, taint: Taint, tolerationSeconds: Int64?, trigger: UInt64, since: Timestamp)] = [:]
    /// Nodes whose pods to check for evictions, with the latest event that asked for it (its
    /// revision and time: a toleration is counted from that event, so that the count does not
    /// depend on when the controller next runs and a replay counts alike).
    private var pendingEvictionCheck: [String: (revision: UInt64, time: Timestamp)] = [:]
    /// Nodes whose pods may have evictions planned.
    private var evictionNodes: Set<String> = []
    /// Nodes the controller has registered (and their last version, to name one that is gone).
    private var registered: [String: Node] = [:]
    /// Nodes that appeared or went away since the last step, with the revision that showed it.
    private var membership: [(name: String, added: Bool, revision: UInt64)] = []

    public init(monitorGracePeriod: Int64 = NodeLifecycleController.defaultMonitorGracePeriod) { self.monitorGracePeriod = monitorGracePeriod }

    /// The latest crash or partition injected on each node (a staged incident): what its silence
    /// after its last heartbeat is owed to, named as the trigger of marking it unreachable.
    private var silencedBy: [String: UInt64] = [:]

    public func observe(_ event: Event, cache: ObjectCache) {
        switch Fault(event) {
        case .crash(let node), .partition(let node): silencedBy[node] = event.revision
        case .recover(let node), .heal(let node): silencedBy[node] = nil
        default: break
        }
        switch event.object.kind {
        case Node.kind:
            let name = event.object.name
            guard let node = cache.get(Node.self, name: name) else {
                heartbeats[name] = nil
                watched.remove(name)
                if registered[name] != nil { membership.append((name, false, event.revision)) }
                return
            }
            if registered.updateValue(node, forKey: name) == nil { membership.append((name, true, event.revision)) }
            if let t = node.condition("Ready")?.lastHeartbeatTime.flatMap({ Timestamp(rfc3339: $0) }) {
                beat(name, at: t, revision: event.revision)
            }
            if heartbeats[name] == nil {
                // A node that never posted status is given the grace period from when it appeared.
                heartbeats[name] = (event.time, event.revision)
            }
            if node.condition("Ready")?.status == "Unknown" { watched.remove(name) } else { watched.insert(name) }
            dirtyNodes[name] = event.revision
            pendingEvictionCheck[name] = (event.revision, event.time)
        case Lease.kind where event.object.namespace == Lease.nodeLeaseNamespace:
            // A renewed node lease is a heartbeat, as much as a posted status is.
            let name = event.object.name
            guard registered[name] != nil,
                  let renewed = cache.get(Lease.self, namespace: Lease.nodeLeaseNamespace, name: name)?.spec?.renewTime.flatMap({ Timestamp(rfc3339: $0) })
            else { return }
            beat(name, at: renewed, revision: event.revision)
        case Pod.kind:
            let key = event.object.key
            guard let pod = cache.get(Pod.self, namespace: key.namespace, name: key.name), pod.metadata.deletionTimestamp == nil else {
                evictions[key] = nil
                return
            }
            if let node = pod.spec.nodeName { pendingEvictionCheck[node] = (event.revision, event.time) }
        default:
            break
        }
    }

    /// Takes a heartbeat of node `name` at `time`, carried by `revision`, unless a later one is known
    /// (the node's status and its lease beat independently).
    private func beat(_ name: String, at time: Timestamp, revision: UInt64) {
        if let known = heartbeats[name], known.time >= time { return }
        heartbeats[name] = (time, revision)
    }

    /// kube-controller-manager starting: every node gets a fresh grace period (silence while the
    /// control plane was down is not held against it), counted from now.
    public func resume(from view: JournalView, cache: ObjectCache, now: Timestamp) throws {
        for (name, beat) in heartbeats where beat.time < now { heartbeats[name] = (now, beat.revision) }
    }

    public func nextWakeup() -> Timestamp? {
        let silent = heartbeats.filter { watched.contains($0.key) }.map { $0.value.time.adding(microseconds: monitorGracePeriod + 1) }
        return (silent + evictions.values.map(\.at)).min()
    }

    public func step(_ context: ComponentContext) async throws -> Bool {
        let cache = context.cache
        // 0. Nodes registered or removed: kube-controller-manager's RegisteredNode/RemovingNode Events.
        if try await recordMembership(context) { return true }
        // 1. Node conditions and taints.
        var wroteNodes = false
        for name in (Set(heartbeats.keys).union(dirtyNodes.keys)).sorted() {
            guard let node = cache.get(Node.self, name: name) else { continue }
            // Silence has no event of its own: a node found silent is reacting to its last heartbeat,
            // or to the fault injected after it (a staged crash or partition).
            let lastBeat = heartbeats[name]?.revision ?? context.observed
            let silence = silencedBy[name].map { max($0, lastBeat) } ?? lastBeat
            let trigger = dirtyNodes.removeValue(forKey: name) ?? silence
            if try await reconcileNode(node, trigger: trigger, context) { wroteNodes = true }
        }
        if wroteNodes { return true }
        // 2. Which pods to evict, and when.
        for node in pendingEvictionCheck.keys.sorted() {
            let trigger = pendingEvictionCheck.removeValue(forKey: node)!
            planEvictions(on: node, trigger: trigger.revision, cache, now: trigger.time)
        }
        // 3. Evictions that are due, soonest first.
        var wrote = false
        for (key, e) in evictions.filter({ $0.value.at <= context.now }).sorted(by: { ($0.value.at, $0.key) < ($1.value.at, $1.key) }) {
            try Task.checkCancellation()
            guard let pod = cache.get(Pod.self, namespace: key.namespace, name: key.name), pod.metadata.deletionTimestamp == nil else {
                evictions[key] = nil
                continue
            }
            // Forgotten only once decided: a failed write leaves the eviction due for the next step.
            var decision = NodeLifecycleDecision(.evict, node: pod.spec.nodeName ?? "")
            decision.taint = "\(e.taint.key):\(e.taint.effect)"
            decision.tolerationSeconds = e.tolerationSeconds
            decision.reason = e.tolerationSeconds == nil ? "the pod does not tolerate the taint" : "the pod tolerated the taint for \(e.tolerationSeconds!)s"
            let rev = try await context.decide(decision, by: Self.actor, about: pod.objectRef, trigger: e.trigger)
            evictions[key] = nil
            let origin = Store.Origin(Self.actor, cause: rev)
            try await context.recordEvent(about: pod, reason: "TaintManagerEviction", message: "Marking for deletion Pod \(key.namespace)/\(key.name)",
                                          component: "taint-eviction-controller", by: Self.actor, cause: rev)
            _ = try? await context.store.delete(.pod, namespace: key.namespace, name: key.name, by: origin)
            wrote = true
        }
        return wrote
    }

    private func reconcileNode(_ node: Node, trigger: UInt64, _ context: ComponentContext) async throws -> Bool {
        let name = node.metadata.name ?? ""
        let ready = node.condition("Ready")
        let silentFor = heartbeats[name].map { $0.time.microseconds(until: context.now) } ?? 0
        // A node that never posted its status (created through the API, no kubelet yet) is left
        // alone for the grace period, then Unknown ("NodeStatusNeverUpdated"), as in Kubernetes.
        if ready == nil, silentFor <= monitorGracePeriod { return false }
        var wantStatus = ready?.status ?? "Unknown"
        if wantStatus != "Unknown", silentFor > monitorGracePeriod { wantStatus = "Unknown" }
        let wantTaint: String? = switch wantStatus {
        case "Unknown": "node.kubernetes.io/unreachable"
        case "False": "node.kubernetes.io/not-ready"
        default: nil
        }
        let managed = ["node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"]
        let taints = node.spec?.taints ?? []
        var newTaints = taints.filter { !managed.contains($0.key) || $0.key == wantTaint }
        if let wantTaint {
            for effect in ["NoSchedule", "NoExecute"] where !newTaints.contains(where: { $0.key == wantTaint && $0.effect == effect }) {
                newTaints.append(Taint(key: wantTaint, effect: effect, timeAdded: effect == "NoExecute" ? context.now.kubernetesTime : nil))
            }
        }
        let statusChange = ready == nil || wantStatus != ready?.status
        guard statusChange || newTaints != taints else { return false }
        var data = NodeLifecycleDecision(wantStatus == "True" ? .markReady : (wantStatus == "Unknown" ? .markUnreachable : .markNotReady), node: name)
        data.ready = wantStatus
        data.taints = newTaints.map { "\($0.key):\($0.effect)" }
        if let last = heartbeats[name] {
            data.lastHeartbeat = last.time.rfc3339
            data.silentSeconds = silentFor / 1_000_000
            data.gracePeriodSeconds = monitorGracePeriod / 1_000_000
        }
        let rev = try await context.decide(data, by: Self.actor, about: node.objectRef, trigger: trigger)
        let origin = Store.Origin(Self.actor, cause: rev)
        var updated = node
        if statusChange {
            var status = updated.status ?? NodeStatus()
            status.conditions = (status.conditions ?? []).map { c in
                guard c.type == "Ready" else { return c }
                var c = c
                c.status = wantStatus
                c.reason = "NodeStatusUnknown"
                c.message = "Kubelet stopped posting node status."
                c.lastTransitionTime = context.now.kubernetesTime
                return c
            }
            if ready == nil {
                status.conditions = (status.conditions ?? []) + [NodeCondition(
                    type: "Ready", status: "Unknown", reason: "NodeStatusNeverUpdated", message: "Kubelet never posted node status.",
                    lastHeartbeatTime: nil, lastTransitionTime: context.now.kubernetesTime)]
            }
            updated.status = status
            updated = try await context.store.updateStatus(updated, by: origin)
        }
        if newTaints != taints {
            updated.spec = updated.spec ?? NodeSpec()
            updated.spec?.taints = newTaints.isEmpty ? nil : newTaints
            _ = try await context.store.update(updated, by: origin)
        }
        if statusChange, wantStatus != "True" {
            try await context.recordEvent(about: node, reason: "NodeNotReady", message: "Node \(name) status is now: NodeNotReady",
                                          component: Self.component, by: Self.actor, cause: rev)
            try await markPodsNotReady(on: name, context, cause: rev)
        }
        return true
    }

    /// kube-controller-manager's name in the Events it records.
    static let component = "node-controller"

    /// Records RegisteredNode or RemovingNode for the nodes that came or went, each after a decision.
    private func recordMembership(_ context: ComponentContext) async throws -> Bool {
        guard !membership.isEmpty else { return false }
        while let change = membership.first {
            try Task.checkCancellation()
            guard let node = registered[change.name] else { membership.removeFirst(); continue }
            let rev = try await context.decide(NodeLifecycleDecision(change.added ? .register : .forget, node: change.name),
                                               by: Self.actor, about: node.objectRef, trigger: change.revision)
            let verb = change.added ? "Registered Node \(change.name) in Controller" : "Removing Node \(change.name) from Controller"
            try await context.recordEvent(about: node, reason: change.added ? "RegisteredNode" : "RemovingNode",
                                          message: "Node \(change.name) event: \(verb)", component: Self.component, by: Self.actor, cause: rev)
            membership.removeFirst()
            if !change.added { registered[change.name] = nil }
        }
        return true
    }

    /// kube-controller-manager's MarkPodsNotReady: the pods of a node that stopped being Ready are
    /// no longer Ready either (so Services stop sending them traffic), each with a Warning Event.
    private func markPodsNotReady(on node: String, _ context: ComponentContext, cause: UInt64) async throws {
        for pod in context.cache.pods(on: node) where pod.isReady {
            try Task.checkCancellation()
            var p = pod
            p.metadata.resourceVersion = nil
            let now = context.now.kubernetesTime
            let conditions = pod.status?.conditions?.map { c in
                guard c.type == "Ready" else { return c }
                var c = c
                c.status = "False"
                c.lastTransitionTime = now
                return c
            }
            p.status?.conditions = conditions
            _ = try await context.store.updateStatus(p, by: Store.Origin(Self.actor, cause: cause))
            try await context.recordEvent(about: pod, reason: "NodeNotReady", message: "Node is not ready", type: "Warning",
                                          component: Self.component, by: Self.actor, cause: cause)
        }
    }

    /// kube-controller-manager's taint eviction controller: a pod that tolerates none of its node's
    /// NoExecute taints goes now; one that tolerates them for a while goes that long after the
    /// controller first found it on the tainted node (not after the taint's `timeAdded`), counted
    /// from the event that showed it (`now`); one that tolerates them for ever stays.
    private func planEvictions(on nodeName: String, trigger: UInt64, _ cache: ObjectCache, now: Timestamp) {
        guard let node = cache.get(Node.self, name: nodeName) else { return }
        let noExecute = (node.spec?.taints ?? []).filter { $0.effect == "NoExecute" }
        // Most nodes have no NoExecute taint and nothing planned: nothing to look at.
        if noExecute.isEmpty, !evictionNodes.contains(nodeName) { return }
        if noExecute.isEmpty { evictionNodes.remove(nodeName) } else { evictionNodes.insert(nodeName) }
        for pod in cache.pods(on: nodeName) where pod.metadata.deletionTimestamp == nil {
            let key = pod.objectKey
            guard !noExecute.isEmpty else {
                evictions[key] = nil
                continue
            }
            // The soonest deadline over the taints: none tolerated → now; tolerated for a while → then.
            var soonest: (Timestamp, Taint, Int64?)?
            let since = evictions[key]?.since ?? now
            for taint in noExecute {
                let matching = (pod.spec.tolerations ?? []).filter { $0.tolerates(taint) }
                let at: Timestamp?
                var seconds: Int64?
                if matching.isEmpty {
                    at = now
                } else if let limited = matching.compactMap(\.tolerationSeconds).min(), matching.allSatisfy({ $0.tolerationSeconds != nil }) {
                    seconds = max(0, limited)
                    at = since.adding(seconds: seconds!)
                } else {
                    at = nil
                }
                if let at, soonest == nil || at < soonest!.0 { soonest = (at, taint, seconds) }
            }
            if let (at, taint, seconds) = soonest {
                evictions[key] = (at, taint, seconds, trigger, since)
            } else {
                evictions[key] = nil
            }
        }
    }
}
