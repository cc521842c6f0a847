import ClusterModel
import ControlPlane
import HeapModule
import Journal

/// The simulated kubelets and container runtime of every simulated node, as one component.
///
/// Each kubelet registers its node and renews its node Lease every 10 s (posting the node's status
/// when it changed, and at least every 5 min); starts the pods bound to it
/// (pull, create, start, ready), restarts exited containers per restartPolicy with CrashLoopBackOff
/// (10 s doubling to 5 min), and terminates deleted pods gracefully: preStop, SIGTERM, SIGKILL when
/// the grace period ends (plus a one-off 2 s if preStop is still running), final status, then the
/// deletion with grace 0. Every step is a `KubeletDecided` event and the writes it causes.
/// Containers behave as their pod's `sim.kubejournal.io/…` annotations say (`ContainerBehavior`).
public final class KubeletFleet: Component {
    public let name = "kubelets"
    public static let heartbeatSeconds: Int64 = 10
    /// The length of a node lease: the kubelet's default (renewed every quarter of it, which is
    /// the heartbeat).
    static let leaseDurationSeconds: Int32 = 40
    /// How often the kubelet posts an unchanged node status while it renews its lease: its
    /// default `nodeStatusReportFrequency`, 5 min.
    static let statusReportSeconds: Int64 = 300
    /// The size reported for an image the kubelet pulled (simulated images have no real size).
    static let pulledImageSize: Int64 = 100 * 1024 * 1024
    static let maxBackoff: Int64 = 300_000_000, initialBackoff: Int64 = 10_000_000
    /// The volume manager's back-off for a volume that cannot be mounted.
    static let initialMountBackoff: Int64 = 500_000, maxMountBackoff: Int64 = 122_000_000
    /// How soon the pod worker tries again after a container's configuration failed.
    static let configRetry: Int64 = 10_000_000

    private var kubelets: [String: Kubelet] = [:]
    /// Which kubelet runs each pod it tracks.
    private var podNode: [ObjectKey: String] = [:]
    private var due = Heap<Due>()
    private var sequence: UInt64 = 0

    public init(nodes: [SimulatedNode], start: Timestamp) {
        for n in nodes { kubelets[n.name] = Kubelet(spec: n) }
        for name in kubelets.keys.sorted() { schedule(start, name, nil) }
    }

    public var nodeNames: [String] { kubelets.keys.sorted() }

    // MARK: faults

    /// Acts on a journalled fault (`FaultInjected` at `revision`), at the event's time.
    func apply(_ fault: Fault, at now: Timestamp, revision: UInt64) {
        switch fault {
        case .crash(let node):
            kubelets[node]?.up = false
        case .recover(let node):
            // It posts a heartbeat at once and restarts what was running.
            guard let k = kubelets[node], !k.up else { return }
            k.up = true
            k.recovered = true
            k.nextHeartbeat = now
            schedule(now, node, nil)
        case .partition(let node):
            kubelets[node]?.reachable = false
        case .heal(let node):
            guard let k = kubelets[node], !k.reachable else { return }
            k.reachable = true
            k.nextHeartbeat = now
            schedule(now, node, nil)
            for key in k.pods.keys.sorted() { schedule(now, node, key) }
        case .kill(let namespace, let pod, _, let code):
            let key = ObjectKey(kind: Pod.kind, namespace: namespace, name: pod)
            guard let node = podNode[key], let k = kubelets[node], var run = k.pods[key], run.stage == .running else { return }
            run.forcedExit = code
            run.due = now
            k.pods[key] = run
            schedule(now, node, key)
        case .addNode(let added):
            guard kubelets[added.name] == nil else { return }
            let k = Kubelet(spec: SimulatedNode(added, defaultIndex: (kubelets.values.map(\.spec.index).max() ?? 0) + 1))
            k.addedBy = revision
            kubelets[added.name] = k
            schedule(now, added.name, nil)
        case .removeNode(let node):
            guard let k = kubelets.removeValue(forKey: node) else { return }
            for key in k.pods.keys { podNode[key] = nil }
        }
    }

    // MARK: resuming

    /// Carries on from the journal: the nodes added and removed, crashed and cut off by
    /// `FaultInjected` events; each kubelet's images (its node's status) and pod addresses; and each
    /// pod where the previous run left it — running containers keep running (same IP, start time and
    /// restart count), a crash loop waits out its back-off, a termination goes on from its last
    /// decision. Nothing is restarted or pulled again because the control plane restarted.
    public func resume(from view: JournalView, cache: ObjectCache, now: Timestamp) throws {
        var faults: [Event] = []
        try view.forEachHeader(in: 1...UInt64.max) { h in
            if h.type == DecisionType.fault, let e = try view.event(at: h.revision) { faults.append(e) }
            return true
        }
        for e in faults { if let f = Fault(e) { apply(f, at: e.time, revision: e.revision) } }
        for (name, k) in kubelets {
            guard let node = cache.get(Node.self, name: name) else { continue }
            for image in node.status?.images ?? [] { for n in image.names ?? [] { k.images.insert(n) } }
            k.registration = nil
            k.nextHeartbeat = now
            schedule(now, name, nil)
        }
        for pod in cache.list(Pod.self) {
            guard let node = pod.spec.nodeName, let k = kubelets[node] else { continue }
            let key = pod.objectKey
            let decisions = try view.history(of: key).compactMap { r -> Event? in
                guard let e = try view.event(at: r), e.type == DecisionType.kubelet, e.actor.name == node else { return nil }
                return e
            }
            let run = Self.resumed(pod, on: k, decisions: decisions, now: now)
            k.pods[key] = run
            podNode[key] = node
            if let ip = run.ip, let last = ip.split(separator: ".").last.flatMap({ Int($0) }) { k.ipCounter = max(k.ipCounter, last - 1) }
            if let due = run.due { schedule(due, node, key) }
        }
    }

    /// A pod's run rebuilt from its status and the kubelet's decisions about it.
    static func resumed(_ pod: Pod, on k: Kubelet, decisions: [Event], now: Timestamp) -> PodRun {
        var run = PodRun(uid: pod.metadata.uid ?? "", behavior: ContainerBehavior(pod), due: now, trigger: decisions.last?.revision ?? 0)
        run.cause = decisions.last?.revision
        let status = pod.status
        let container = status?.containerStatuses?.first
        func time(_ text: String?) -> Timestamp? { text.flatMap { Timestamp(rfc3339: $0) } }
        run.ip = status?.podIP
        run.startTime = time(status?.startTime)
        run.restarts = container?.restartCount ?? 0
        if let t = container?.lastState?.terminated ?? container?.state?.terminated {
            run.lastExit = (t.exitCode, t.reason ?? "Error", time(t.startedAt) ?? now, time(t.finishedAt) ?? now)
        }
        if ["Succeeded", "Failed"].contains(status?.phase ?? "") {
            run.stage = .completed
            run.due = pod.metadata.deletionTimestamp == nil ? nil : now
        } else if let running = container?.state?.running {
            run.stage = .running
            run.startedAt = time(running.startedAt) ?? now
            run.ready = pod.isReady
            run.due = [run.ready ? nil : run.readyAt, run.exitAt].compactMap { $0 }.map { max($0, now) }.min()
        } else if container?.state?.waiting?.reason == "CrashLoopBackOff", let exit = run.lastExit {
            run.stage = .backoff
            let backoff = min(Self.maxBackoff, Self.initialBackoff << Int64(min(Int(run.restarts), 20)))
            run.due = max(now, exit.finished.adding(microseconds: backoff))
        } else {
            // Not started yet (or pulling, or backing off a failed pull): start again from the
            // beginning; an image already on the node is not pulled again.
            run.stage = .admitted
            run.due = now
        }
        guard pod.metadata.deletionTimestamp != nil else { return run }
        // Terminating: go on from the kubelet's last decisions about it.
        for d in decisions {
            guard let data = KubeletDecision.from(d) else { continue }
            switch data.action {
            case .terminate:
                let deadline = data.deadline.flatMap { Timestamp(rfc3339: $0) } ?? d.time
                var t = Termination(started: d.time, deadline: deadline)
                if let preStop = data.preStopSeconds { t.preStopUntil = d.time.adding(seconds: preStop) }
                if run.stage != .running { t.stopAt = d.time }
                run.termination = t
            case .sigterm:
                guard var t = run.termination else { continue }
                t.sigtermAt = d.time
                t.killAt = max(t.deadline, d.time)
                let ignored = data.ignored == true
                let stop = d.time.adding(seconds: run.behavior.stopSeconds)
                if !ignored, stop < t.killAt! { t.stopAt = stop; t.exitCode = 0 }
                run.termination = t
            case .sigkill:
                run.termination?.stopAt = d.time
                run.termination?.exitCode = 137
            case .remove:
                run.stage = .removing
            default:
                break
            }
        }
        if run.stage == .removing {
            run.due = nil
        } else if var t = run.termination {
            t.finalStatusWritten = ["Succeeded", "Failed"].contains(status?.phase ?? "")
            run.termination = t
            run.due = now
        } else {
            run.due = now  // deleted while the previous run was down: terminate now
        }
        return run
    }

    // MARK: component

    public func observe(_ event: Event, cache: ObjectCache) {
        if let fault = Fault(event) {
            apply(fault, at: event.time, revision: event.revision)
            return
        }
        if [ConfigMap.kind, Secret.kind, PersistentVolumeClaim.kind].contains(event.object.kind) {
            wake(waitingFor: event)
            return
        }
        guard event.object.kind == Pod.kind else { return }
        let key = event.object.key
        let pod = cache.get(Pod.self, namespace: key.namespace, name: key.name)
        if let name = podNode[key], let k = kubelets[name], var run = k.pods[key] {
            if pod == nil || pod?.metadata.uid != run.uid {
                k.pods[key] = nil  // removed (or replaced by a new pod of the same name)
                podNode[key] = nil
            } else if pod?.metadata.deletionTimestamp != nil, run.termination == nil, run.stage != .removing {
                run.due = event.time
                run.trigger = event.revision
                k.pods[key] = run
                schedule(event.time, name, key)
            }
        }
        guard let pod, let node = pod.spec.nodeName, let k = kubelets[node], k.pods[key] == nil,
              !["Succeeded", "Failed"].contains(pod.status?.phase ?? "") else { return }
        k.pods[key] = PodRun(uid: pod.metadata.uid ?? "", behavior: ContainerBehavior(pod), due: event.time, trigger: event.revision)
        podNode[key] = node
        schedule(event.time, node, key)
    }

    /// A ConfigMap, Secret or claim was written: the pods waiting for it (to mount it, or to read
    /// their environment from it) try again now, as the kubelet's informers make them.
    private func wake(waitingFor event: Event) {
        guard [WriteType.created.rawValue, WriteType.updated.rawValue, WriteType.statusUpdated.rawValue].contains(event.type) else { return }
        let written = event.object.key
        for name in kubelets.keys.sorted() {
            let k = kubelets[name]!
            for key in k.pods.keys.sorted() where k.pods[key]?.waitingFor == written {
                k.pods[key]?.due = event.time
                k.pods[key]?.trigger = event.revision
                schedule(event.time, name, key)
            }
        }
    }

    public func nextWakeup() -> Timestamp? {
        while let top = due.min, !isCurrent(top) { _ = due.popMin() }
        return due.min?.time
    }

    /// What fell due at the earliest due time not after now (the next such time while nothing is
    /// written), each pod and node at most once once it wrote (its next step needs the cache to
    /// show what this one wrote).
    public func step(_ context: ComponentContext) async throws -> Bool {
        var wrote = false
        var touched: Set<ObjectKey> = []
        var beatNodes: Set<String> = []
        var later: [Due] = []
        defer { for d in later { due.insert(d) } }
        // One instant per step: what fell due at the earliest time (all of it, whenever the driver
        // gets to it), then — only if that wrote nothing — the next instant. What a step does is
        // then a function of the journal's times, not of how late the driver came, so a replay
        // makes the same step.
        while !wrote, let instant = due.min?.time, instant <= context.now {
            while let top = due.min, top.time == instant {
                _ = due.popMin()
                guard isCurrent(top), let k = kubelets[top.node], k.up, k.reachable else { continue }
                // A simulated node acts at the time its work fell due, even when the driver gets to it
                // later: every time it writes is then a function of the journal's event times (what a
                // replay re-makes), not of how busy the control plane was.
                let at = context.acting(at: top.time)
                do {
                    try Task.checkCancellation()
                    if let key = top.pod {
                        guard !touched.contains(key) else { later.append(top); continue }
                        // A pod whose step wrote nothing (it only waits longer) may take its next one now.
                        if try await advance(key, on: k, at) {
                            wrote = true
                            touched.insert(key)
                        }
                    } else {
                        guard beatNodes.insert(top.node).inserted else { later.append(top); continue }
                        if try await heartbeat(k, at) { wrote = true }
                    }
                } catch {
                    // Not done (a write failed, or shutdown): due again, for the next step.
                    later.append(top)
                    throw error
                }
            }
        }
        return wrote
    }

    private func schedule(_ time: Timestamp, _ node: String, _ pod: ObjectKey?) {
        sequence += 1
        due.insert(Due(time: time, sequence: sequence, node: node, pod: pod))
    }

    private func isCurrent(_ d: Due) -> Bool {
        guard let k = kubelets[d.node] else { return false }
        guard let key = d.pod else { return d.time == k.nextHeartbeat || k.nextHeartbeat == nil }
        return k.pods[key]?.due == d.time
    }

    // MARK: heartbeats

    private func heartbeat(_ k: Kubelet, _ ctx: ComponentContext) async throws -> Bool {
        let store = ctx.store
        let actor = Actor(kind: "kubelet", name: k.spec.name)
        let next = ctx.now.adding(seconds: Self.heartbeatSeconds)
        k.nextHeartbeat = next
        schedule(next, k.spec.name, nil)
        let now = ctx.now.kubernetesTime
        var registered = false
        if k.registration == nil || k.recovered || ctx.cache.get(Node.self, name: k.spec.name) == nil {
            var d = KubeletDecision(k.recovered ? .reRegister : .register)
            d.heartbeatSeconds = Self.heartbeatSeconds
            k.registration = try await ctx.decide(d, by: actor, about: ObjectRef(kind: Node.kind, name: k.spec.name), trigger: k.addedBy)
            registered = true
        }
        let origin = Store.Origin(actor, cause: k.registration)
        guard var node = ctx.cache.get(Node.self, name: k.spec.name) else {
            let created = try await store.create(k.spec.registration(at: now), by: origin)
            _ = try await renewLease(of: created, ctx, origin)
            return true
        }
        let leased = try await renewLease(of: node, ctx, origin)
        var status = node.status ?? NodeStatus()
        var conditions = (status.conditions ?? []).filter { $0.type != "Ready" }
        let old = node.condition("Ready")
        conditions.append(NodeCondition(
            type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status",
            lastHeartbeatTime: now, lastTransitionTime: old?.status == "True" ? old?.lastTransitionTime : now))
        status.conditions = conditions
        // The images the kubelet has pulled are reported, which the scheduler's ImageLocality reads.
        let reported = Set((status.images ?? []).flatMap { $0.names ?? [] })
        let pulled = k.images.subtracting(reported).sorted()
        if !pulled.isEmpty {
            status.images = (status.images ?? []) + pulled.map { ContainerImage(names: [$0], sizeBytes: Self.pulledImageSize) }
        }
        // With a Lease to renew, the status is posted only when it changed, when the kubelet
        // (re)registered, or when the last report is `statusReportSeconds` old — the kubelet's
        // nodeStatusReportFrequency. The last report is the Ready condition's heartbeat time.
        let lastReport = old?.lastHeartbeatTime.flatMap { Timestamp(rfc3339: $0) }
        let reportDue = lastReport.map { ctx.now >= $0.adding(seconds: Self.statusReportSeconds) } ?? true
        guard !leased || registered || k.recovered || reportDue || Self.changed(node.status, status) else { return true }
        node.status = status
        node.metadata.resourceVersion = nil  // the kubelet owns this status: no precondition
        _ = try await store.updateStatus(node, by: origin)
        if k.recovered {
            k.recovered = false
            // The node restarted: whatever ran there must start again (or finish terminating).
            for key in k.pods.keys.sorted() {
                guard var run = k.pods[key], run.stage != .removing else { continue }
                if run.termination != nil {
                    run.termination?.killAt = ctx.now
                    run.termination?.stopAt = ctx.now
                } else if run.stage == .running {
                    run.forcedExit = 255
                }
                run.due = ctx.now
                k.pods[key] = run
                schedule(ctx.now, k.spec.name, key)
            }
        }
        return true
    }

    /// Creates or renews the node's Lease in `kube-node-lease`, as the kubelet's node lease
    /// controller does: held by the node, 40 s long, renewed at every heartbeat, owned by the
    /// Node (so it goes with it). False when there is no such namespace (a journal made before
    /// KubeJournal kept node leases): the kubelet then posts its status at every heartbeat, as
    /// kubelets did before leases.
    private func renewLease(of node: Node, _ ctx: ComponentContext, _ origin: Store.Origin) async throws -> Bool {
        guard ctx.cache.get(Namespace.self, name: Lease.nodeLeaseNamespace) != nil else { return false }
        let name = node.metadata.name ?? ""
        let renewTime = ctx.now.rfc3339
        if var lease = ctx.cache.get(Lease.self, namespace: Lease.nodeLeaseNamespace, name: name) {
            lease.spec = lease.spec ?? LeaseSpec(holderIdentity: name, leaseDurationSeconds: Self.leaseDurationSeconds)
            lease.spec?.holderIdentity = name
            lease.spec?.leaseDurationSeconds = Self.leaseDurationSeconds
            lease.spec?.renewTime = renewTime
            if lease.metadata.ownerReferences == nil, let owner = Self.ownerReference(node) { lease.metadata.ownerReferences = [owner] }
            lease.metadata.resourceVersion = nil  // the kubelet holds this lease: no precondition
            _ = try await ctx.store.update(lease, by: origin)
        } else {
            var lease = Lease(
                metadata: ObjectMeta(name: name, namespace: Lease.nodeLeaseNamespace),
                spec: LeaseSpec(holderIdentity: name, leaseDurationSeconds: Self.leaseDurationSeconds))
            lease.spec?.renewTime = renewTime
            lease.metadata.ownerReferences = Self.ownerReference(node).map { [$0] }
            _ = try await ctx.store.create(lease, by: origin)
        }
        return true
    }

    /// The Node as owner of its Lease.
    private static func ownerReference(_ node: Node) -> OwnerReference? {
        node.metadata.uid.map { OwnerReference(apiVersion: "v1", kind: Node.kind, name: node.metadata.name ?? "", uid: $0) }
    }

    /// Whether `new` says something `old` did not, heartbeat times aside (the kubelet's
    /// `nodeStatusHasChanged`).
    static func changed(_ old: NodeStatus?, _ new: NodeStatus) -> Bool {
        func withoutBeats(_ s: NodeStatus?) -> NodeStatus? {
            guard var s else { return nil }
            s.conditions = s.conditions?.map { var c = $0; c.lastHeartbeatTime = nil; return c }
            return s
        }
        return withoutBeats(old) != withoutBeats(new)
    }

    // MARK: pods

    private func advance(_ key: ObjectKey, on k: Kubelet, _ ctx: ComponentContext) async throws -> Bool {
        guard var run = k.pods[key], let pod = ctx.cache.get(Pod.self, namespace: key.namespace, name: key.name), pod.metadata.uid == run.uid else {
            k.pods[key] = nil
            podNode[key] = nil
            return false
        }
        var w = PodWriter(kubelet: k, pod: pod, ctx: ctx, trigger: run.trigger)
        run.due = nil
        if pod.metadata.deletionTimestamp != nil, run.termination == nil, run.stage != .removing {
            try await beginTermination(&run, &w)
        } else if let t = run.termination {
            try await continueTermination(&run, t, &w)
        } else {
            try await lifecycle(&run, &w)
        }
        // A later timer of this pod was set by the decision just made.
        if let cause = run.cause { run.trigger = cause }
        k.pods[key] = run
        if let d = run.due { schedule(d, k.spec.name, key) }
        return w.wrote
    }

    private func lifecycle(_ run: inout PodRun, _ w: inout PodWriter) async throws {
        let now = w.ctx.now, b = run.behavior
        let image = w.pod.spec.containers.first?.image ?? ""
        switch run.stage {
        case .admitted:
            let (containers, present) = (w.pod.spec.containers.map(\.name), w.kubelet.images.contains(image))
            run.cause = try await w.decide(.start) {
                $0.containers = containers
                $0.imagePresent = present
            }
            run.ip = w.kubelet.nextIP()
            run.startTime = now
            try await w.status(run, waiting: "ContainerCreating")
            if try await mounted(&run, &w) { try await pullOrStart(&run, &w, image) }
        case .mounting:
            if try await mounted(&run, &w) { try await pullOrStart(&run, &w, image) }
        case .pulling:
            if b.imagePullFails {
                run.pullFailures += 1
                let backoff = min(Self.maxBackoff, Self.initialBackoff << Int64(min(run.pullFailures - 1, 20)))
                try await w.event("Failed", "Failed to pull image \"\(image)\": simulated pull failure", run.cause, type: "Warning")
                try await w.status(run, waiting: "ImagePullBackOff", message: "Back-off pulling image \"\(image)\"")
                try await w.event("BackOff", "Back-off pulling image \"\(image)\"", run.cause, type: "Warning")
                run.due = now.adding(microseconds: backoff)
            } else {
                w.kubelet.images.insert(image)
                try await w.event("Pulled", "Successfully pulled image \"\(image)\" in \(Self.seconds(b.pullSeconds))s", run.cause)
                run.stage = .starting
                run.due = now.adding(seconds: b.startupSeconds)
            }
        case .starting:
            if let missing = PodConfiguration(pod: w.pod, cache: w.ctx.cache).unresolvable {
                // The runtime manager cannot make the container's environment: the container waits
                // and the pod worker tries again (every 10 s, or when the object appears).
                run.waitingFor = missing.key
                try await w.status(run, waiting: "CreateContainerConfigError", message: missing.message)
                try await w.event("Failed", "Error: \(missing.message)", run.cause, type: "Warning")
                run.due = now.adding(microseconds: Self.configRetry)
                return
            }
            try await proceed(&run, &w)
            run.stage = .running
            run.startedAt = now
            run.ready = b.readyAfterSeconds == 0
            for c in w.pod.spec.containers {
                try await w.event("Created", "Created container \(c.name)", run.cause)
                try await w.event("Started", "Started container \(c.name)", run.cause)
            }
            try await w.status(run)
            run.due = nextRunningEvent(run, now)
        case .running:
            if let code = run.forcedExit ?? (run.exitAt.map { $0 <= now } == true ? b.exitCode : nil) {
                run.forcedExit = nil
                try await exited(&run, code: code, &w)
            } else if !run.ready, let readyAt = run.readyAt, readyAt <= now {
                run.ready = true
                try await w.status(run)
                run.due = nextRunningEvent(run, now)
            } else {
                run.due = nextRunningEvent(run, now)
            }
        case .backoff:
            run.restarts += 1
            run.cause = try await w.decide(.restart) { [restarts = run.restarts] in $0.restartCount = Int64(restarts) }
            try await w.event("Pulled", "Container image \"\(image)\" already present on machine", run.cause)
            run.stage = .starting
            run.due = now.adding(seconds: b.startupSeconds)
        case .completed, .removing:
            break
        }
    }

    /// Whether the pod's volumes can be mounted; if not, a `FailedMount` Event and another try
    /// after the volume manager's back-off (500 ms doubling to 2 min 2 s), or when what is missing
    /// appears.
    private func mounted(_ run: inout PodRun, _ w: inout PodWriter) async throws -> Bool {
        guard let missing = PodConfiguration(pod: w.pod, cache: w.ctx.cache).unmountable else {
            try await proceed(&run, &w)
            return true
        }
        run.mountFailures += 1
        run.stage = .mounting
        run.waitingFor = missing.key
        try await w.event("FailedMount", missing.message, run.cause, type: "Warning")
        run.due = w.ctx.now.adding(microseconds: min(Self.maxMountBackoff, Self.initialMountBackoff << Int64(min(run.mountFailures - 1, 20))))
        return false
    }

    /// What the pod waited for is there now: a `proceed` decision, triggered by what woke the
    /// kubelet (the object's creation, when it came), which the writes that follow carry out — so
    /// `kj why` leads from the pod's start back to the ConfigMap, Secret or claim it waited for.
    private func proceed(_ run: inout PodRun, _ w: inout PodWriter) async throws {
        guard let waited = run.waitingFor else { return }
        run.waitingFor = nil
        run.cause = try await w.decide(.proceed) {
            $0.waitedFor = "\(waited.kind) \(waited.namespace)/\(waited.name)"
        }
    }

    /// The image: already on the node (start soon), or pulled first.
    private func pullOrStart(_ run: inout PodRun, _ w: inout PodWriter, _ image: String) async throws {
        let now = w.ctx.now, b = run.behavior
        if w.kubelet.images.contains(image) {
            try await w.event("Pulled", "Container image \"\(image)\" already present on machine", run.cause)
            run.stage = .starting
            run.due = now.adding(seconds: b.startupSeconds)
        } else {
            try await w.event("Pulling", "Pulling image \"\(image)\"", run.cause)
            run.stage = .pulling
            run.due = now.adding(seconds: b.pullSeconds)
        }
    }

    private func nextRunningEvent(_ run: PodRun, _ now: Timestamp) -> Timestamp? {
        [run.ready ? nil : run.readyAt, run.exitAt].compactMap { $0 }.min()
    }

    private func exited(_ run: inout PodRun, code: Int32, _ w: inout PodWriter) async throws {
        let now = w.ctx.now
        let reason = code == 0 ? "Completed" : "Error"
        run.lastExit = (code, reason, run.startedAt ?? now, now)
        run.ready = false
        let policy = w.pod.spec.restartPolicy ?? "Always"
        if policy == "Always" || (policy == "OnFailure" && code != 0) {
            let backoff = min(Self.maxBackoff, Self.initialBackoff << Int64(min(Int(run.restarts), 20)))
            run.cause = try await w.decide(.backoff) { [restarts = run.restarts] in
                $0.exitCode = Int64(code)
                $0.restartCount = Int64(restarts)
                $0.backoffSeconds = backoff / 1_000_000
                $0.restartPolicy = policy
            }
            run.stage = .backoff
            let container = w.pod.spec.containers.first?.name ?? ""
            try await w.status(run, waiting: "CrashLoopBackOff",
                               message: "back-off \(backoff / 1_000_000)s restarting failed container=\(container) pod=\(w.pod.metadata.name ?? "")")
            try await w.event("BackOff", "Back-off restarting failed container \(container) in pod \(w.pod.metadata.name ?? "")_\(w.pod.metadata.namespace ?? "")(\(run.uid))", run.cause, type: "Warning")
            run.due = now.adding(microseconds: backoff)
        } else {
            run.cause = try await w.decide(.completed) {
                $0.exitCode = Int64(code)
                $0.restartPolicy = policy
            }
            run.stage = .completed
            try await w.status(run, phase: code == 0 ? "Succeeded" : "Failed")
        }
    }

    private func beginTermination(_ run: inout PodRun, _ w: inout PodWriter) async throws {
        let now = w.ctx.now
        let grace = w.pod.metadata.deletionGracePeriodSeconds ?? w.pod.spec.terminationGracePeriodSeconds ?? 30
        let deadline = now.adding(seconds: grace)
        let running = run.stage == .running || run.stage == .starting
        var t = Termination(started: now, deadline: deadline)
        var plan = KubeletDecision(.terminate)
        plan.gracePeriodSeconds = grace
        plan.deadline = deadline.rfc3339
        if running, let preStop = run.behavior.preStopSeconds {
            t.preStopUntil = now.adding(seconds: preStop)
            plan.preStopSeconds = preStop
        }
        run.cause = try await w.decide(plan)
        if running {
            for c in w.pod.spec.containers { try await w.event("Killing", "Stopping container \(c.name)", run.cause) }
        }
        if !running {
            t.stopAt = now  // nothing is running: go straight to removal
        } else if t.preStopUntil != nil {
            run.cause = try await w.decide(.preStop) { $0.seconds = plan.preStopSeconds }
        }
        run.termination = t
        run.due = now
    }

    private func continueTermination(_ run: inout PodRun, _ t0: Termination, _ w: inout PodWriter) async throws {
        var t = t0
        let now = w.ctx.now, b = run.behavior
        defer { run.termination = t }
        if let stopped = t.stopAt, stopped <= now {
            // Containers are down: final status, then the deletion that removes the pod.
            if !t.finalStatusWritten {
                t.finalStatusWritten = true
                run.lastExit = (t.exitCode, t.exitCode == 0 ? "Completed" : "Error", run.startedAt ?? now, now)
                run.ready = false
                run.stage = .completed
                try await w.status(run, phase: t.exitCode == 0 ? "Succeeded" : "Failed")
                run.due = now
                return
            }
            run.cause = try await w.decide(.remove) { [code = t.exitCode] in $0.exitCode = Int64(code) }
            run.stage = .removing
            let key = w.pod.objectRef
            _ = try await w.ctx.store.delete(.pod, namespace: key.namespace, name: key.name, gracePeriodSeconds: 0,
                                             preconditionUID: run.uid, by: w.origin(run.cause))
            w.wrote = true
            return
        }
        if let until = t.preStopUntil, t.sigtermAt == nil {
            // preStop runs until done, or until the grace period plus a one-off 2 s.
            let limit = until > t.deadline ? t.deadline.adding(seconds: Int64(2)) : until
            if now < limit { run.due = limit; return }
            if until > t.deadline { t.killAt = now }
        }
        if t.sigtermAt == nil {
            t.sigtermAt = now
            run.cause = try await w.decide(.sigterm) { $0.ignored = b.ignoreSIGTERM }
            let killAt = t.killAt ?? max(t.deadline, now)
            t.killAt = killAt
            let stop = now.adding(seconds: b.stopSeconds)
            if !b.ignoreSIGTERM, stop < killAt {
                t.stopAt = stop
                t.exitCode = 0
                run.due = stop
            } else {
                run.due = killAt
            }
            return
        }
        if let killAt = t.killAt, killAt <= now {
            run.cause = try await w.decide(.sigkill) { [started = t.started] in $0.afterSeconds = Double(started.microseconds(until: now)) / 1e6 }
            t.stopAt = now
            t.exitCode = 137
            run.due = now
            return
        }
        run.due = t.stopAt ?? t.killAt
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? String(Int(s)) : String(format: "%.1f", s)
    }
}

// MARK: - state

struct Due: Comparable {
    var time: Timestamp
    var sequence: UInt64
    var node: String
    var pod: ObjectKey?

    static func < (a: Due, b: Due) -> Bool { (a.time, a.sequence) < (b.time, b.sequence) }
    static func == (a: Due, b: Due) -> Bool { a.time == b.time && a.sequence == b.sequence }
}

final class Kubelet {
    let spec: SimulatedNode
    var up = true
    var reachable = true
    var recovered = false
    var registration: UInt64?
    /// The `FaultInjected` event that added the node while the cluster ran (its registration's trigger).
    var addedBy: UInt64?
    var nextHeartbeat: Timestamp?
    var images: Set<String>
    var pods: [ObjectKey: PodRun] = [:]
    var ipCounter = 0

    init(spec: SimulatedNode) {
        self.spec = spec
        images = Set(spec.images.map(\.name))
    }

    func nextIP() -> String {
        ipCounter = ipCounter % 253 + 1
        return "10.244.\(spec.index).\(ipCounter + 1)"
    }
}

struct Termination {
    var started: Timestamp
    var deadline: Timestamp
    var preStopUntil: Timestamp?
    var sigtermAt: Timestamp?
    var killAt: Timestamp?
    var stopAt: Timestamp?
    var exitCode: Int32 = 0
    var finalStatusWritten = false
}

struct PodRun {
    enum Stage { case admitted, mounting, pulling, starting, running, backoff, completed, removing }
    var uid: String
    var behavior: ContainerBehavior
    var due: Timestamp?
    var stage = Stage.admitted
    var cause: UInt64?
    var ip: String?
    var startTime: Timestamp?
    var startedAt: Timestamp?
    var ready = false
    var restarts: Int32 = 0
    var pullFailures = 0
    var mountFailures = 0
    /// The ConfigMap or Secret the pod waits for (to mount it, or for its environment).
    var waitingFor: ObjectKey?
    var forcedExit: Int32?
    var lastExit: (code: Int32, reason: String, started: Timestamp, finished: Timestamp)?
    var termination: Termination?
    /// The event that woke the kubelet for this pod: the binding, the deletion, or the kubelet's
    /// own previous decision when a timer ran out.
    var trigger: UInt64

    init(uid: String, behavior: ContainerBehavior, due: Timestamp, trigger: UInt64) {
        self.uid = uid
        self.behavior = behavior
        self.due = due
        self.trigger = trigger
    }

    var readyAt: Timestamp? { startedAt?.adding(seconds: behavior.readyAfterSeconds) }
    var exitAt: Timestamp? { behavior.exitAfterSeconds.flatMap { s in startedAt?.adding(seconds: s) } }
}

/// The writes of one kubelet step for one pod.
struct PodWriter {
    let kubelet: Kubelet
    let pod: Pod
    let ctx: ComponentContext
    let trigger: UInt64
    var wrote = false

    var actor: Actor { Actor(kind: "kubelet", name: kubelet.spec.name) }

    func origin(_ cause: UInt64?) -> Store.Origin { Store.Origin(actor, cause: cause) }

    /// A `KubeletDecided` about the pod: `decision` from this kubelet's node.
    mutating func decide(_ decision: KubeletDecision) async throws -> UInt64 {
        var d = decision
        d.node = kubelet.spec.name
        wrote = true
        return try await ctx.decide(d, by: actor, about: pod.objectRef, trigger: trigger)
    }

    /// A `KubeletDecided` of `action`, with the details `fill` sets.
    mutating func decide(_ action: KubeletDecision.Action, _ fill: (inout KubeletDecision) -> Void = { _ in }) async throws -> UInt64 {
        var d = KubeletDecision(action)
        fill(&d)
        return try await decide(d)
    }

    mutating func event(_ reason: String, _ message: String, _ cause: UInt64?, type: String = "Normal") async throws {
        wrote = true
        try await ctx.recordEvent(about: pod, reason: reason, message: message, type: type, component: "kubelet",
                                  host: kubelet.spec.name, by: actor, cause: cause)
    }

    /// Writes the pod's status for `run`: containers waiting (with `waiting`), running or
    /// terminated, and the phase (Running unless given).
    mutating func status(_ run: PodRun, waiting: String? = nil, message: String? = nil, phase: String? = nil) async throws {
        let now = ctx.now.kubernetesTime
        var p = pod
        var s = p.status ?? PodStatus()
        let running = waiting == nil && phase == nil && run.stage == .running
        s.phase = phase ?? (running || run.stage == .backoff || run.restarts > 0 ? "Running" : "Pending")
        s.hostIP = kubelet.spec.address
        s.hostIPs = [IPAddress(ip: kubelet.spec.address)]
        if let ip = run.ip, phase == nil || s.podIP != nil {
            s.podIP = ip
            s.podIPs = [IPAddress(ip: ip)]
        }
        s.startTime = s.startTime ?? run.startTime?.kubernetesTime
        s.qosClass = s.qosClass ?? "BestEffort"
        func condition(_ type: String, _ value: Bool) -> PodCondition {
            let old = pod.status?.conditions?.first { $0.type == type }
            let status = value ? "True" : "False"
            return PodCondition(type: type, status: status, reason: value ? nil : (type == "Ready" || type == "ContainersReady" ? "ContainersNotReady" : nil),
                                lastTransitionTime: old?.status == status ? old?.lastTransitionTime : now)
        }
        let ready = running && run.ready
        s.conditions = [
            condition("PodReadyToStartContainers", run.ip != nil),
            condition("Initialized", true),
            condition("Ready", ready),
            condition("ContainersReady", ready),
            condition("PodScheduled", true),
        ]
        s.containerStatuses = pod.spec.containers.map { c in
            var cs = ContainerStatus(name: c.name, image: c.image ?? "", ready: ready, restartCount: run.restarts)
            cs.imageID = waiting == "ContainerCreating" || waiting == "ImagePullBackOff" ? "" : "sim://\(c.image ?? "")"
            // Names the container instance: the pod, the container and how often it was restarted.
            cs.containerID = run.startedAt.map { _ in "sim://\(run.uid.prefix(8))-\(c.name)-\(run.restarts)" }
            if let waiting {
                cs.state = ContainerState(waiting: ContainerStateWaiting(reason: waiting, message: message))
                cs.started = false
            } else if let phase, let exit = run.lastExit, phase == "Succeeded" || phase == "Failed" {
                cs.state = ContainerState(terminated: ContainerStateTerminated(
                    exitCode: exit.code, reason: exit.reason, signal: exit.code == 137 ? 9 : nil,
                    startedAt: exit.started.kubernetesTime, finishedAt: exit.finished.kubernetesTime))
                cs.started = false
            } else {
                cs.state = ContainerState(running: ContainerStateRunning(startedAt: run.startedAt?.kubernetesTime))
                cs.started = true
            }
            if let exit = run.lastExit, waiting != nil || running {
                cs.lastState = ContainerState(terminated: ContainerStateTerminated(
                    exitCode: exit.code, reason: exit.reason, signal: exit.code == 137 ? 9 : nil,
                    startedAt: exit.started.kubernetesTime, finishedAt: exit.finished.kubernetesTime))
            }
            return cs
        }
        p.status = s
        p.metadata.resourceVersion = nil  // the kubelet owns the pod's status: no precondition
        _ = try await ctx.store.updateStatus(p, by: origin(run.cause))
        wrote = true
    }
}

extension Timestamp {
    /// Moved by a fractional number of seconds, saturating (as `adding(microseconds:)`).
    func adding(seconds: Double) -> Timestamp {
        let micros = (seconds * 1_000_000).rounded()
        guard micros.isFinite else { return micros > 0 ? adding(microseconds: .max) : adding(microseconds: .min) }
        return adding(microseconds: Int64(min(max(micros, -9.2e18), 9.2e18)))
    }
}
