import ClusterModel
import Foundation
import Scheduler
import Testing

func node(_ name: String, cpu: String = "4", memory: String = "8Gi", labels: [String: String] = [:], taints: [Taint] = [],
          images: [(String, Int64)] = [], used: [Pod] = []) -> NodeInfo {
    var n = Node(metadata: ObjectMeta(name: name, labels: labels), spec: NodeSpec(taints: taints.isEmpty ? nil : taints))
    let capacity: [String: Quantity] = ["cpu": try! Quantity(parsing: cpu), "memory": try! Quantity(parsing: memory), "pods": Quantity(110)]
    n.status = NodeStatus(capacity: capacity, allocatable: capacity)
    n.status?.images = images.map { ContainerImage(names: [$0.0], sizeBytes: $0.1) }
    let info = NodeInfo(n)
    for (i, p) in used.enumerated() {
        var p = p
        if info.pods[PodInfo(p).key] != nil { p.metadata.name = "\(name)-pod-\(i)" }
        p.spec.nodeName = name
        info.add(PodInfo(p))
    }
    return info
}

func pod(_ name: String = "p", cpu: String? = nil, memory: String? = nil, image: String = "app:1", uid: String = "uid-1") -> Pod {
    var requests: [String: Quantity] = [:]
    if let cpu { requests["cpu"] = try! Quantity(parsing: cpu) }
    if let memory { requests["memory"] = try! Quantity(parsing: memory) }
    var p = Pod(metadata: ObjectMeta(name: name, namespace: "default"), spec: PodSpec(containers: [Container(name: "c", image: image)]))
    p.spec.containers[0].resources = ResourceRequirements(requests: requests.isEmpty ? nil : requests)
    p.metadata.uid = uid
    return p
}

/// Cases whose answer kube-scheduler's default profile gives, worked out from its plugins.
@Suite struct PlacementTests {
    @Test func leastAllocatedPrefersTheEmptierNode() {
        let busy = node("busy", used: [pod(cpu: "3", memory: "6Gi")])
        let idle = node("idle")
        let r = SchedulingAlgorithm.run(pod: pod(cpu: "500m", memory: "512Mi"), nodes: [busy, idle], seed: 1)
        #expect(r.chosen == "idle")
        let fit = r.scores.first { $0.node == "idle" }!.plugins.first { $0.plugin == "NodeResourcesFit" }!
        // (4000-500)/4000 → 87; (8Gi-512Mi)/8Gi → 93; mean 90.
        #expect(fit.score == 90)
    }

    @Test func balancedAllocationPrefersEvenUse() {
        // Same free capacity per resource share on both, but node "cpuheavy" already uses mostly CPU.
        let cpuHeavy = node("cpuheavy", cpu: "4", memory: "8Gi", used: [pod(cpu: "2", memory: "512Mi")])
        let even = node("even", cpu: "4", memory: "8Gi", used: [pod(cpu: "1", memory: "2Gi")])
        let r = SchedulingAlgorithm.run(pod: pod(cpu: "1", memory: "2Gi"), nodes: [cpuHeavy, even], seed: 1)
        let balanced = Dictionary(uniqueKeysWithValues: r.scores.map { ($0.node, $0.plugins.first { $0.plugin == "NodeResourcesBalancedAllocation" }!.score) })
        #expect(balanced["even"] == 100)
        #expect(balanced["cpuheavy"]! < 90)
        #expect(r.chosen == "even")
    }

    @Test func aPreferNoScheduleTaintWeighsThreeTimes() {
        let tainted = node("tainted", taints: [Taint(key: "spot", value: "true", effect: "PreferNoSchedule")])
        let plain = node("plain", used: [pod(cpu: "1", memory: "1Gi")])
        let r = SchedulingAlgorithm.run(pod: pod(cpu: "100m", memory: "100Mi"), nodes: [tainted, plain], seed: 1)
        #expect(r.chosen == "plain")
        let t = r.scores.first { $0.node == "tainted" }!.plugins.first { $0.plugin == "TaintToleration" }!
        #expect(t.raw == 1 && t.score == 0 && t.weighted == 0)
        var tolerant = pod(cpu: "100m", memory: "100Mi")
        tolerant.spec.tolerations = [Toleration(key: "spot", operator: "Exists", effect: "PreferNoSchedule")]
        #expect(SchedulingAlgorithm.run(pod: tolerant, nodes: [tainted, plain], seed: 1).chosen == "tainted")
    }

    @Test func preferredNodeAffinityWeightsDecide() {
        let a = node("a", labels: ["zone": "a", "disk": "ssd"]), b = node("b", labels: ["zone": "b"])
        var p = pod(cpu: "100m")
        p.spec.affinity = Affinity(nodeAffinity: NodeAffinity(preferred: [
            PreferredSchedulingTerm(weight: 10, preference: NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "zone", operator: "In", values: ["b"])])),
            PreferredSchedulingTerm(weight: 60, preference: NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "disk", operator: "Exists")])),
        ]))
        let r = SchedulingAlgorithm.run(pod: p, nodes: [a, b], seed: 1)
        #expect(r.chosen == "a")
        let affinity = Dictionary(uniqueKeysWithValues: r.scores.map { ($0.node, $0.plugins.first { $0.plugin == "NodeAffinity" }!) })
        #expect(affinity["a"]!.raw == 60 && affinity["a"]!.score == 100)
        #expect(affinity["b"]!.raw == 10 && affinity["b"]!.score == 16)
    }

    @Test func nodeSelectorAndRequiredAffinityFilter() {
        let ssd = node("ssd", labels: ["disk": "ssd", "cores": "16"]), hdd = node("hdd", labels: ["disk": "hdd", "cores": "4"])
        var p = pod()
        p.spec.nodeSelector = ["disk": "ssd"]
        var r = SchedulingAlgorithm.run(pod: p, nodes: [ssd, hdd], seed: 1)
        #expect(r.chosen == "ssd")
        #expect(r.verdicts.first { $0.node == "hdd" }?.reasons == ["node(s) didn't match Pod's node affinity/selector"])
        p.spec.nodeSelector = nil
        p.spec.affinity = Affinity(nodeAffinity: NodeAffinity(required: NodeSelector(nodeSelectorTerms: [
            NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "cores", operator: "Gt", values: ["8"])]),
        ])))
        r = SchedulingAlgorithm.run(pod: p, nodes: [ssd, hdd], seed: 1)
        #expect(r.chosen == "ssd")
    }

    @Test func aHostPortConflictFiltersTheNode() {
        var web = pod("web")
        web.spec.containers[0].ports = [ContainerPort(containerPort: 80, hostPort: 8080)]
        let taken = node("taken", used: [web])
        let free = node("free", used: [pod(cpu: "3", memory: "7Gi")])
        var p = pod("new", uid: "uid-2")
        p.spec.containers[0].ports = [ContainerPort(containerPort: 80, hostPort: 8080)]
        let r = SchedulingAlgorithm.run(pod: p, nodes: [taken, free], seed: 1)
        #expect(r.chosen == "free")
        #expect(r.verdicts.first { $0.node == "taken" }?.plugin == "NodePorts")
    }

    @Test func unschedulableMessagesHaveKubeSchedulersShape() {
        let nodes = [
            node("n1", cpu: "1"), node("n2", cpu: "1"),
            node("n3", cpu: "8", taints: [Taint(key: "node.kubernetes.io/not-ready", effect: "NoSchedule")]),
        ]
        let r = SchedulingAlgorithm.run(pod: pod(cpu: "2"), nodes: nodes, seed: 1)
        #expect(r.chosen == nil)
        #expect(r.unschedulableMessage == "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.")
    }

    @Test func tiesBreakBySeedAndUidAndRerunsAgree() {
        let nodes = (1...8).map { node("node-\($0)") }
        var picks = Set<String>()
        for i in 0..<40 {
            let p = pod(uid: "uid-\(i)")
            let r = SchedulingAlgorithm.run(pod: p, nodes: nodes, seed: 7)
            #expect(r.tied.count == 8)
            #expect(SchedulingAlgorithm.run(pod: p, nodes: nodes.reversed(), seed: 7) == r)
            picks.insert(r.chosen!)
        }
        #expect(picks.count > 4)  // spread, not always the first name
    }

    @Test func imageLocalityPrefersNodesWithTheImage() {
        let withImage = node("with", images: [("app:1", 800 * 1024 * 1024)])
        let without = node("without")
        let r = SchedulingAlgorithm.run(pod: pod(), nodes: [withImage, without], seed: 1)
        #expect(r.chosen == "with")
        #expect(r.scores[0].plugins.first { $0.plugin == "ImageLocality" }!.score > 0)
    }

    @Test func aDecisionOverFiveThousandNodesStaysSmall() throws {
        var nodes: [NodeInfo] = []
        for i in 0..<5000 {
            let taints = i % 3 == 0 ? [Taint(key: "dedicated", value: "team-\(i % 7)", effect: "NoSchedule")] : []
            nodes.append(node("node-\(i)", cpu: i % 2 == 0 ? "1" : "8", taints: taints, used: i % 5 == 0 ? [pod(cpu: "500m")] : []))
        }
        for p in [pod(cpu: "2"), pod(cpu: "100")] {
            let r = SchedulingAlgorithm.run(pod: p, nodes: nodes, seed: 1)
            let bytes = r.decision(pod: p, attempt: 1).json.serialized().count
            #expect(bytes <= 8192, "\(bytes) bytes")
        }
    }

    /// kube-scheduler's effective request: the larger of the containers' sum and the largest init
    /// container (which runs alone, before them). Counting only the containers overcommits nodes.
    @Test func anInitContainerLargerThanTheContainersDecidesWhatThePodNeeds() {
        var p = pod(cpu: "500m", memory: "256Mi")
        var initContainer = Container(name: "setup", image: "migrate:1")
        initContainer.resources = ResourceRequirements(requests: ["cpu": Quantity(3), "memory": try! Quantity(parsing: "1Gi")])
        p.spec.initContainers = [initContainer]
        let request = PodRequest(p)
        #expect(request.requested.milliCPU == 3000)
        #expect(request.requested.memory == 1 << 30)
        let small = node("small", cpu: "2")
        let r = SchedulingAlgorithm.run(pod: p, nodes: [small], seed: 1)
        #expect(r.chosen == nil)
        #expect(r.unschedulableMessage == "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.")
        // The init container's image counts for ImageLocality too.
        let withImage = node("with", images: [("migrate:1", 800 << 20)]), without = node("without")
        var light = pod()
        light.spec.initContainers = [Container(name: "setup", image: "migrate:1")]
        let placed = SchedulingAlgorithm.run(pod: light, nodes: [withImage, without], seed: 1)
        let locality = placed.scores.first { $0.node == "with" }!.plugins.first { $0.plugin == "ImageLocality" }!
        #expect(locality.score > 0)
    }
}

