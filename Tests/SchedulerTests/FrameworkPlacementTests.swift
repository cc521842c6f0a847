import ClusterModel
import Foundation
import Scheduler
import Testing
import TestSupport

/// A replica of ReplicaSet `web` (labels app=web), controlled by it.
func replica(_ i: Int, cpu: String = "100m", memory: String = "128Mi", affinity: Affinity? = nil, spread: [TopologySpreadConstraint]? = nil) -> Pod {
    var p = pod("web-\(i)", cpu: cpu, memory: memory, uid: "uid-web-\(i)")
    p.metadata.labels = ["app": "web"]
    p.metadata.ownerReferences = [OwnerReference(apiVersion: ReplicaSet.apiVersion, kind: ReplicaSet.kind, name: "web", uid: "rs-uid", controller: true)]
    p.spec.affinity = affinity
    p.spec.topologySpreadConstraints = spread
    return p
}

/// Schedules `pods` one after another as the scheduler does (each placed pod counted on its node);
/// returns each pod's result.
func placeAll(_ pods: [Pod], on nodes: [NodeInfo], profile: SchedulerProfile = .kubeDefault, workloads: WorkloadSelectors = .web) -> [SchedulingResult] {
    pods.map { p in
        let r = SchedulingAlgorithm.run(pod: p, cluster: ClusterSnapshot(nodes: nodes, workloads: workloads), profile: profile, seed: 1)
        if let chosen = r.chosen, let n = nodes.first(where: { $0.name == chosen }) {
            var placed = p
            placed.spec.nodeName = chosen
            n.add(PodInfo(placed))
        }
        return r
    }
}

extension WorkloadSelectors {
    /// ReplicaSet `web` selecting app=web in `default`.
    static var web: WorkloadSelectors {
        var w = WorkloadSelectors()
        w.setReplicaSet(namespace: "default", name: "web", selector: LabelSelectorExpression(labels: ["app": "web"]))
        return w
    }
}

func counts(_ nodes: [NodeInfo]) -> [String: Int] {
    Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0.pods.count) })
}

func hostNode(_ name: String, zone: String? = nil, cpu: String = "4", used: [Pod] = []) -> NodeInfo {
    var labels = [TopologyKey.hostname: name]
    if let zone { labels[TopologyKey.zone] = zone }
    return node(name, cpu: cpu, labels: labels, used: used)
}

func profile(_ yaml: String) throws -> SchedulerProfile {
    let text = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n" + yaml
    return SchedulerProfile(try #require(try SchedulerConfiguration.profiles(yaml: text).first))
}

/// kube-scheduler 1.32's default profile beyond the node-local plugins: topology spread (with the
/// system default constraints), inter-pod affinity, and profiles from KubeSchedulerConfiguration.
@Suite struct FrameworkPlacementTests {
    @Test func sixReplicasOnThreeEmptyNodesSpreadTwoTwoTwo() {
        let nodes = ["node-1", "node-2", "node-3"].map { hostNode($0) }
        let results = placeAll((1...6).map { replica($0) }, on: nodes)
        #expect(results.allSatisfy { $0.chosen != nil })
        #expect(counts(nodes) == ["node-1": 2, "node-2": 2, "node-3": 2])
        // The second replica: PodTopologySpread's hostname default (maxSkew 3) scored the emptier nodes
        // 100 and the first replica's node 100 × (4 + 2 − 4) / 4 = 50 (raw 1 × ln(3 + 2) + 2 → 4).
        let spread = results[1].scores.map { s in (s.node, s.plugins.first { $0.plugin == "PodTopologySpread" }!) }
        #expect(spread.map(\.1.weight).allSatisfy { $0 == 2 })
        #expect(spread.filter { $0.1.score == 50 }.count == 1 && spread.filter { $0.1.score == 50 }[0].1.raw == 4)
    }

    @Test func withoutAnOwnerOrServiceNothingSpreadsByDefault() {
        let nodes = ["node-1", "node-2", "node-3"].map { hostNode($0) }
        var lone = pod("lone", cpu: "100m", memory: "128Mi")
        lone.metadata.labels = ["app": "web"]
        let r = SchedulingAlgorithm.run(pod: lone, cluster: ClusterSnapshot(nodes: nodes, workloads: .web), seed: 1)
        #expect(r.scores.allSatisfy { $0.plugins.first { $0.plugin == "PodTopologySpread" }!.score == 0 })
    }

    @Test func aMostAllocatedProfilePacksThem() throws {
        let packing = try profile("""
            profiles:
            - schedulerName: bin-packing
              plugins:
                score:
                  disabled: [{name: PodTopologySpread}]
              pluginConfig:
              - name: NodeResourcesFit
                args:
                  scoringStrategy:
                    type: MostAllocated
                    resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]
            """)
        #expect(packing.schedulerName == "bin-packing")
        let nodes = ["node-1", "node-2", "node-3"].map { hostNode($0) }
        let results = placeAll((1...6).map { replica($0) }, on: nodes, profile: packing)
        #expect(Set(results.compactMap(\.chosen)).count == 1)
        #expect(counts(nodes).values.sorted() == [0, 0, 6])
        #expect(results[0].profile == "bin-packing" && results[0].profileDigest == packing.digest)
        #expect(packing.digest != SchedulerProfile.kubeDefault.digest)
    }

    @Test func requiredAntiAffinityOnHostnameLeavesTheFourthReplicaPending() {
        let apart = Affinity(podAntiAffinity: PodAffinity(required: [
            PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "web"]), topologyKey: TopologyKey.hostname),
        ]))
        let nodes = ["node-1", "node-2", "node-3"].map { hostNode($0) }
        let results = placeAll((1...4).map { replica($0, affinity: apart) }, on: nodes)
        #expect(counts(nodes) == ["node-1": 1, "node-2": 1, "node-3": 1])
        #expect(results[3].chosen == nil)
        #expect(results[3].unschedulableMessage == "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.")
        #expect(results[3].verdicts.allSatisfy { $0.plugin == "InterPodAffinity" })
    }

    @Test func anExistingPodsAntiAffinityKeepsTheIncomingPodAway() {
        var guardPod = pod("guard", uid: "uid-guard")
        guardPod.metadata.labels = ["role": "guard"]
        guardPod.spec.affinity = Affinity(podAntiAffinity: PodAffinity(required: [
            PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "web"]), topologyKey: TopologyKey.hostname),
        ]))
        let nodes = [hostNode("node-1", used: [guardPod]), hostNode("node-2", cpu: "1")]
        let r = SchedulingAlgorithm.run(pod: replica(1), cluster: ClusterSnapshot(nodes: nodes), seed: 1)
        #expect(r.chosen == "node-2")
        #expect(r.verdicts.first { $0.node == "node-1" }?.reasons == ["node(s) didn't satisfy existing pods anti-affinity rules"])
    }

    @Test func preferredAffinityPullsAPodNextToAnother() {
        var cache = pod("cache", cpu: "2", memory: "4Gi", uid: "uid-cache")
        cache.metadata.labels = ["app": "cache"]
        // node-1 is busier, so every resource score prefers node-2; the preferred term outweighs them.
        let nodes = [hostNode("node-1", used: [cache]), hostNode("node-2")]
        var p = pod("client", cpu: "100m", memory: "128Mi", uid: "uid-client")
        p.spec.affinity = Affinity(podAffinity: PodAffinity(preferred: [
            WeightedPodAffinityTerm(weight: 100, podAffinityTerm: PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "cache"]), topologyKey: TopologyKey.hostname)),
        ]))
        let r = SchedulingAlgorithm.run(pod: p, cluster: ClusterSnapshot(nodes: nodes), seed: 1)
        #expect(r.chosen == "node-1")
        let affinity = Dictionary(uniqueKeysWithValues: r.scores.map { ($0.node, $0.plugins.first { $0.plugin == "InterPodAffinity" }!) })
        #expect(affinity["node-1"]?.raw == 100 && affinity["node-1"]?.score == 100 && affinity["node-2"]?.score == 0)
        // Without the term, node-2 wins.
        p.spec.affinity = nil
        #expect(SchedulingAlgorithm.run(pod: p, cluster: ClusterSnapshot(nodes: nodes), seed: 1).chosen == "node-2")
    }

    @Test func requiredAffinityWaitsForItsPeerUnlessItIsTheFirstOfItsGroup() {
        let together = Affinity(podAffinity: PodAffinity(required: [
            PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "web"]), topologyKey: TopologyKey.zone),
        ]))
        let nodes = [hostNode("node-1", zone: "a"), hostNode("node-2", zone: "b"), hostNode("node-3")]
        // The first replica matches its own term: any node with a zone will do, the zone-less one never.
        let first = placeAll([replica(1, affinity: together)], on: nodes)[0]
        #expect(first.chosen != nil && first.chosen != "node-3")
        #expect(first.verdicts.first { $0.node == "node-3" }?.reasons == ["node(s) didn't match pod affinity rules"])
        // The next ones follow it into its zone.
        let zone = nodes.first { $0.name == first.chosen }!.labels[TopologyKey.zone]
        for r in placeAll((2...4).map { replica($0, affinity: together) }, on: nodes) {
            #expect(nodes.first { $0.name == r.chosen }?.labels[TopologyKey.zone] == zone)
        }
        // A pod its own term does not select, with no peer anywhere, cannot go anywhere.
        var stranger = pod("stranger", uid: "uid-stranger")
        stranger.spec.affinity = Affinity(podAffinity: PodAffinity(required: [
            PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "db"]), topologyKey: TopologyKey.zone),
        ]))
        let r = SchedulingAlgorithm.run(pod: stranger, cluster: ClusterSnapshot(nodes: nodes), seed: 1)
        #expect(r.unschedulableMessage == "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    }

    @Test func doNotScheduleSpreadFiltersBySkewAndMissingLabels() {
        let byZone = [TopologySpreadConstraint(maxSkew: 1, topologyKey: TopologyKey.zone, whenUnsatisfiable: "DoNotSchedule",
                                               labelSelector: LabelSelector(matchLabels: ["app": "web"]))]
        let nodes = [hostNode("a-1", zone: "a"), hostNode("a-2", zone: "a"), hostNode("b-1", zone: "b"), hostNode("nolabel")]
        let results = placeAll((1...4).map { replica($0, spread: byZone) }, on: nodes)
        let perZone = Dictionary(grouping: results.compactMap(\.chosen), by: { $0.hasPrefix("a") ? "a" : $0.hasPrefix("b") ? "b" : "-" }).mapValues(\.count)
        #expect(perZone == ["a": 2, "b": 2])
        // After a-zone's first pod, zone a is one ahead: its nodes fail with the skew reason.
        let second = results[1]
        let skewed = second.verdicts.filter { $0.reasons == ["node(s) didn't match pod topology spread constraints"] }.map(\.node)
        #expect(!skewed.isEmpty)
        #expect(second.verdicts.first { $0.node == "nolabel" }?.reasons == ["node(s) didn't match pod topology spread constraints (missing required label)"])
    }

    @Test func matchFieldsNamingNodesLimitsTheSearch() {
        let nodes = ["node-1", "node-2", "node-3"].map { hostNode($0) }
        var p = pod("pinned", uid: "uid-pinned")
        p.spec.affinity = Affinity(nodeAffinity: NodeAffinity(required: NodeSelector(nodeSelectorTerms: [
            NodeSelectorTerm(matchFields: [NodeSelectorRequirement(key: "metadata.name", operator: "In", values: ["node-2"])]),
        ])))
        let r = SchedulingAlgorithm.run(pod: p, nodes: nodes, seed: 1)
        #expect(r.chosen == "node-2" && r.searched == 1)
        #expect(r.verdicts.first { $0.node == "node-1" }?.reasons == ["node(s) didn't satisfy plugin(s) [NodeAffinity]"])
    }
}

/// KubeSchedulerConfiguration files: what kube-scheduler accepts loads; mistakes are refused with the field's path.
@Suite struct SchedulerConfigurationTests {
    /// The shape of the Kubernetes documentation's examples (scheduling/config, resource bin packing,
    /// topology spread defaults), in one file.
    static let documented = """
        apiVersion: kubescheduler.config.k8s.io/v1
        kind: KubeSchedulerConfiguration
        percentageOfNodesToScore: 50
        profiles:
        - schedulerName: default-scheduler
          pluginConfig:
          - name: PodTopologySpread
            args:
              defaultConstraints:
              - maxSkew: 1
                topologyKey: topology.kubernetes.io/zone
                whenUnsatisfiable: ScheduleAnyway
              defaultingType: List
          - name: InterPodAffinity
            args:
              hardPodAffinityWeight: 5
        - schedulerName: no-scoring-scheduler
          plugins:
            preScore:
              disabled: [{name: '*'}]
            score:
              disabled: [{name: '*'}]
        - schedulerName: rtcr-scheduler
          pluginConfig:
          - name: NodeResourcesFit
            args:
              scoringStrategy:
                type: RequestedToCapacityRatio
                resources: [{name: cpu, weight: 3}, {name: memory, weight: 1}]
                requestedToCapacityRatio:
                  shape:
                  - {utilization: 0, score: 0}
                  - {utilization: 100, score: 10}
        """

    @Test func theDocumentedExamplesLoad() throws {
        let profiles = try SchedulerConfiguration.profiles(yaml: Self.documented)
        #expect(profiles.map(\.schedulerName) == ["default-scheduler", "no-scoring-scheduler", "rtcr-scheduler"])
        #expect(profiles[0].percentageOfNodesToScore == 50)
        #expect(profiles[0].spreadDefaults.map(\.topologyKey) == [TopologyKey.zone] && !profiles[0].spreadSystemDefaulted)
        #expect(profiles[0].hardPodAffinityWeight == 5)
        #expect(profiles[1].scores.isEmpty && profiles[1].filters == ProfileConfiguration.kubeDefault().filters)
        #expect(profiles[2].scoringStrategy.type == .requestedToCapacityRatio && profiles[2].scoringStrategy.shape.count == 2)
        // A profile that only renames is the default profile under another name, with another digest.
        let renamed = try SchedulerConfiguration.profiles(yaml: "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles: [{schedulerName: other}]")
        #expect(renamed[0] == ProfileConfiguration.kubeDefault("other"))
    }

    @Test func noScoringPicksByTheSeedAlone() throws {
        let profile = SchedulerProfile(try SchedulerConfiguration.profiles(yaml: Self.documented)[1])
        let r = SchedulingAlgorithm.run(pod: pod(), nodes: ["node-1", "node-2", "node-3"].map { hostNode($0) }, profile: profile, seed: 1)
        #expect(r.tied.count == 3 && r.scores.allSatisfy { $0.total == 0 && $0.plugins.isEmpty })
    }

    @Test(arguments: [
        ("profiles: [{schedulerName: a, plugins: {score: {enabled: [{name: NodeResourcesFit, wieght: 2}]}}}]",
         "profiles[0].plugins.score.enabled[0].wieght: unknown field \"wieght\""),
        ("profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: Fewest}}}]}]",
         "profiles[0].pluginConfig[0].args.scoringStrategy.type: Unsupported value: \"Fewest\": supported values: \"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\""),
        ("profiles: [{plugins: {filter: {disabled: [{name: NodeFrobnicator}]}}}]",
         "profiles[0].plugins.filter.disabled[0].name: Invalid value: \"NodeFrobnicator\": no such plugin in kj"),
        ("profiles: [{pluginConfig: [{name: InterPodAffinity, args: {hardPodAffinityWeight: 101}}]}]",
         "profiles[0].pluginConfig[0].args.hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100]"),
        ("profiles: [{pluginConfig: [{name: PodTopologySpread, args: {defaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway}]}}]}]",
         "profiles[0].pluginConfig[0].args.defaultConstraints: Invalid value: when .defaultingType is \"System\", .defaultConstraints must be empty"),
        ("profiles: [{schedulerName: a}, {schedulerName: a}]", "profiles[1].schedulerName: Duplicate value: \"a\""),
        ("percentageOfNodesToScore: 120", "percentageOfNodesToScore: Invalid value: 120: not in valid range [0-100]"),
    ])
    func aBrokenConfigurationNamesTheField(body: String, message: String) {
        let text = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n" + body
        let error = #expect(throws: SchedulerConfigurationError.self) { try SchedulerConfiguration.profiles(yaml: text) }
        #expect(error?.description.hasPrefix(message) == true, "\(error?.description ?? "no error")")
    }

    @Test func theWrongAPIVersionIsRefused() {
        let error = #expect(throws: SchedulerConfigurationError.self) {
            try SchedulerConfiguration.profiles(yaml: "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n")
        }
        #expect(error?.description == "apiVersion: Unsupported value: \"kubescheduler.config.k8s.io/v1beta3\": supported values: \"kubescheduler.config.k8s.io/v1\"")
    }
}

/// The scheduler's label index only lets spreading skip nodes that add nothing, and matches each
/// distinct existing anti-affinity term once: with or without it, every attempt decides the same.
@Suite struct LabelIndexTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func decisionsAreTheSameWithAndWithoutTheIndex(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let index = LabelIndex()
        func cluster(_ index: LabelIndex?) -> [NodeInfo] {
            (0..<40).map { i in
                var n = Node(metadata: ObjectMeta(name: "node-\(i)", labels: [TopologyKey.hostname: "node-\(i)", TopologyKey.zone: "zone-\(i % 4)"]))
                let capacity: [String: Quantity] = ["cpu": Quantity(8), "memory": Quantity(16 << 30, format: .binarySI), "pods": Quantity(110)]
                n.status = NodeStatus(capacity: capacity, allocatable: capacity)
                return NodeInfo(n, labelIndex: index)
            }
        }
        let indexed = cluster(index), plain = cluster(nil)
        var workloads = WorkloadSelectors()
        for g in 0..<3 { workloads.setReplicaSet(namespace: "default", name: "rs-\(g)", selector: LabelSelectorExpression(labels: ["app": "g\(g)"])) }
        for i in 0..<150 {
            let g = Int.random(in: 0..<3, using: &rng)
            var p = pod("p\(i)", cpu: "100m", memory: "64Mi", uid: "uid-\(i)")
            p.metadata.labels = ["app": "g\(g)"]
            p.metadata.ownerReferences = [OwnerReference(apiVersion: ReplicaSet.apiVersion, kind: ReplicaSet.kind, name: "rs-\(g)", uid: "rs-\(g)", controller: true)]
            // Group 1 spreads over zones (DoNotSchedule); group 2 keeps one pod per zone at most.
            if g == 1 {
                p.spec.topologySpreadConstraints = [TopologySpreadConstraint(maxSkew: 1, topologyKey: TopologyKey.zone, whenUnsatisfiable: "DoNotSchedule",
                                                                             labelSelector: LabelSelector(matchLabels: ["app": "g1"]))]
            }
            if g == 2 {
                p.spec.affinity = Affinity(podAntiAffinity: PodAffinity(required: [
                    PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "g2"]), topologyKey: TopologyKey.zone),
                ]))
            }
            let a = SchedulingAlgorithm.run(pod: p, cluster: ClusterSnapshot(nodes: indexed, workloads: workloads, labels: index), seed: seed)
            let b = SchedulingAlgorithm.run(pod: p, cluster: ClusterSnapshot(nodes: plain, workloads: workloads), seed: seed)
            #expect(a == b, "pod \(i)")
            guard let chosen = a.chosen else { continue }
            p.spec.nodeName = chosen
            indexed.first { $0.name == chosen }!.add(PodInfo(p))
            plain.first { $0.name == chosen }!.add(PodInfo(p))
            // Now and then a pod goes, to exercise removal.
            if i % 7 == 0, let victim = indexed.first(where: { !$0.pods.isEmpty })?.pods.keys.sorted().first {
                for nodes in [indexed, plain] { for n in nodes { n.remove(victim) } }
            }
        }
    }
}
