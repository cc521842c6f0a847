import ArgumentParser
import ClusterModel
import ControlPlane
import Foundation
import Journal
import Scheduler
import Simulation

/// `kj bench scheduler`: scheduling throughput with every decision written, decision sizes, and a
/// large rollout simulated in virtual time.
struct SchedulerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Scheduling throughput (10,000 pods onto 5,000 nodes, every decision written) and a 1,000-node rollout in virtual time.",
        discussion: """
            pods_per_s: 10,000 pending pods (100m–1 CPU, 128–512 MiB), each controlled by one of 20 ReplicaSets, \
            are scheduled onto 5,000 nodes in 10 zones by the scheduler component with kube-scheduler's default \
            profile (so PodTopologySpread's system default constraints are in play), each attempt writing its \
            SchedulingDecided event, the binding and the Scheduled event through the Store. \
            pods_per_s_spread_antiaffinity: the same pods with their own constraints as well: a DoNotSchedule \
            zone spread (maxSkew 1) and required pod anti-affinity on the hostname within their group. \
            decision_event_bytes_*: the sizes of the decision events. simulate_seconds: \
            wall time of a scenario in virtual time with every component — 1,000 nodes, a Deployment of 10,000 \
            replicas created, then rolled to a new image (maxSurge 25%, maxUnavailable 25%); rollout_events: the \
            events that scenario wrote.
            """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Nodes for the scheduling measurement.") var nodes = 5000
    @Option(help: "Pods for the scheduling measurement.") var pods = 10_000
    @Option(help: "Nodes of the simulated rollout.") var rolloutNodes = 1000
    @Option(help: "Replicas of the simulated rollout.") var rolloutReplicas = 10_000
    @Option(help: ArgumentHelp("Where to create the temporary journals.", valueName: "dir")) var dir: String?

    func run() async throws {
        let root = (dir ?? NSTemporaryDirectory()) + "/kj-bench-scheduler-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var r = try await scheduling(dir: root + "/scheduling", constrained: false)
        for (key, value) in try await scheduling(dir: root + "/constrained", constrained: true) where key.hasPrefix("pods_per_s") || key.hasPrefix("decision") {
            r[key.replacingOccurrences(of: "pods_per_s", with: "pods_per_s_spread_antiaffinity")
                .replacingOccurrences(of: "decision_event_bytes", with: "decision_event_bytes_spread_antiaffinity")] = value
        }
        let (seconds, events) = try await rollout(dir: root + "/rollout")
        r["simulate_seconds"] = seconds
        r["rollout_events"] = Double(events)
        r["rollout_nodes"] = Double(rolloutNodes)
        r["rollout_replicas"] = Double(rolloutReplicas)
        if json {
            print(try jsonText(r.mapValues { ($0 * 1000).rounded() / 1000 }))
        } else {
            print(aligned(r.keys.sorted().map { ($0, String(format: "%.2f", r[$0]!)) }))
        }
    }

    /// Schedules `pods` pods of 20 ReplicaSets onto `nodes` nodes in 10 zones; `constrained`: each pod
    /// also spreads over zones (DoNotSchedule, maxSkew 1) and keeps off hosts its group is on.
    private func scheduling(dir: String, constrained: Bool) async throws -> [String: Double] {
        let journal = try Journal.open(at: dir, options: JournalOptions(initialMapSize: 1 << 30, durability: .noSync))
        defer { journal.close() }
        let clock = ManualClock()
        let store = try await Store.open(journal: journal, clock: clock, options: Store.Options(snapshotInterval: 0, seed: 1))
        let admin = Store.Origin(.user("bench"))
        for i in 0..<nodes {
            var node = Node(metadata: ObjectMeta(name: "node-\(i)", labels: [TopologyKey.hostname: "node-\(i)", TopologyKey.zone: "zone-\(i % 10)"]))
            let capacity: [String: Quantity] = ["cpu": Quantity(32), "memory": Quantity(128 << 30, format: .binarySI), "pods": Quantity(110)]
            node.status = NodeStatus(capacity: capacity, allocatable: capacity)
            node.status?.conditions = [NodeCondition(type: "Ready", status: "True")]
            _ = try await store.create(node, by: admin)
        }
        let groups = 20
        var owners: [OwnerReference] = []
        for g in 0..<groups {
            let labels = ["app": "bench-\(g)"]
            var rs = ReplicaSet(metadata: ObjectMeta(name: "bench-\(g)", namespace: "default"),
                                spec: ReplicaSetSpec(replicas: 0, selector: LabelSelector(matchLabels: labels),
                                                     template: PodTemplateSpec(metadata: ObjectMeta(labels: labels), spec: PodSpec(containers: [Container(name: "app", image: "app")]))))
            rs = try await store.create(rs, by: admin)
            owners.append(OwnerReference(apiVersion: ReplicaSet.apiVersion, kind: ReplicaSet.kind, name: "bench-\(g)", uid: rs.metadata.uid ?? "", controller: true))
        }
        for i in 0..<pods {
            let labels = ["app": "bench-\(i % groups)"]
            var p = Pod(metadata: ObjectMeta(name: "pod-\(i)", labels: labels),
                        spec: PodSpec(containers: [Container(name: "app", image: "registry.example.com/app:\(i % 5)")]))
            p.metadata.ownerReferences = [owners[i % groups]]
            if constrained {
                p.spec.topologySpreadConstraints = [TopologySpreadConstraint(maxSkew: 1, topologyKey: TopologyKey.zone, whenUnsatisfiable: "DoNotSchedule",
                                                                             labelSelector: LabelSelector(matchLabels: labels))]
                p.spec.affinity = Affinity(podAntiAffinity: PodAffinity(required: [
                    PodAffinityTerm(labelSelector: LabelSelector(matchLabels: labels), topologyKey: TopologyKey.hostname),
                ]))
            }
            p.spec.containers[0].resources = ResourceRequirements(requests: [
                "cpu": Quantity(milli: Int128(100 + (i % 10) * 100)), "memory": Quantity(Int64(128 + (i % 4) * 128) << 20, format: .binarySI)])
            _ = try await store.create(p, by: admin)
        }
        let scheduler = SchedulerComponent(seed: 1)
        let driver = try Driver(store: store, components: [scheduler], kubelets: nil, now: { clock.now() })
        try await driver.prime()
        let start = ContinuousClock.now
        try await driver.settle()
        let seconds = (ContinuousClock.now - start).seconds
        var sizes: [Int] = []
        var bound = 0
        try journal.read { view in
            try view.forEachHeader(in: 1...UInt64.max) { h in
                if h.type == DecisionType.scheduling {
                    sizes.append(h.data.count)
                    if JSONFields.string(at: ["outcome"], in: h.data) == "bound" { bound += 1 }
                }
                return true
            }
        }
        guard bound == pods else { throw CLIError("only \(bound) of \(pods) pods were bound") }
        sizes.sort()
        return ["pods_per_s": Double(pods) / seconds, "scheduling_seconds": seconds, "nodes": Double(nodes), "pods": Double(pods),
                "decision_event_bytes_p50": Double(sizes[sizes.count / 2]), "decision_event_bytes_max": Double(sizes.last!)]
    }

    private func rollout(dir: String) async throws -> (seconds: Double, events: UInt64) {
        let yaml = """
            name: bench-rollout
            seed: 1
            duration: 15m
            cluster:
              nodes:
              - {namePrefix: node-, count: \(rolloutNodes), cpu: "64", memory: 256Gi, pods: "110", images: ["app:1", "app:2"]}
            timeline:
            - at: 1s
              apply: |
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  replicas: \(rolloutReplicas)
                  selector: {matchLabels: {app: web}}
                  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers:
                      - {name: app, image: "app:1", resources: {requests: {cpu: 100m, memory: 64Mi}}}
            - at: 5m
              setImage: deployment/web
              image: "app:2"
            - at: 15m
              expect: {deployment: web, updated: \(rolloutReplicas), available: \(rolloutReplicas), image: "app:2"}
            """
        let journal = try Journal.open(at: dir, options: JournalOptions(initialMapSize: 4 << 30, durability: .noSync))
        defer { journal.close() }
        let start = ContinuousClock.now
        let simulator = try await Simulator(scenario: try Scenario(yaml: yaml), journal: journal)
        let checks = try await simulator.run()
        let seconds = (ContinuousClock.now - start).seconds
        if let failed = checks.first(where: { !$0.passed }) { throw CLIError("the rollout did not finish: \(failed.failure ?? "")") }
        return (seconds, try journal.head().revision)
    }
}
