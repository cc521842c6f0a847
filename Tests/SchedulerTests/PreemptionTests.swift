import ClusterModel
import Scheduler
import Testing

/// A pod of `priority` requesting `cpu`, started at `start` (RFC 3339 seconds).
func prioritized(_ name: String, _ priority: Int32, cpu: String, start: Int = 0, never: Bool = false) -> Pod {
    var p = pod(name, cpu: cpu, uid: "uid-\(name)")
    p.spec.priority = priority
    p.spec.preemptionPolicy = never ? "Never" : "PreemptLowerPriority"
    p.status = PodStatus(phase: "Running")
    p.status?.startTime = String(format: "2026-01-01T10:00:%02dZ", start)
    return p
}

/// kube-scheduler's DefaultPreemption: candidates, victims and the choice among nodes.
@Suite struct PreemptionTests {
    @Test func aHighPriorityPodPreemptsTheLowestPriorityPodOnTheBestNode() throws {
        let nodes = [hostNode("node-1", cpu: "2", used: [prioritized("low", 0, cpu: "1500m")]),
                     hostNode("node-2", cpu: "2", used: [prioritized("mid", 500, cpu: "1500m")])]
        let r = SchedulingAlgorithm.run(pod: prioritized("urgent", 1000, cpu: "1500m"), nodes: nodes, seed: 1)
        #expect(r.chosen == nil)
        let p = try #require(r.preemption)
        #expect(p.node == "node-1" && p.victims.map(\.name) == ["low"] && p.candidates == 2)
        // A successful preemption adds nothing to the FitError.
        #expect(r.unschedulableMessage == "0/2 nodes are available: 2 Insufficient cpu.")
        #expect(r.decision(pod: prioritized("urgent", 1000, cpu: "1500m"), attempt: 1).preemption?.node == "node-1")
    }

    @Test func onlyAsManyVictimsAsTheRoomNeedsTheMostImportantKept() throws {
        let used = [prioritized("a", 0, cpu: "500m", start: 1), prioritized("b", 0, cpu: "500m", start: 2), prioritized("c", 100, cpu: "500m", start: 3)]
        let r = SchedulingAlgorithm.run(pod: prioritized("urgent", 1000, cpu: "1"), nodes: [hostNode("node-1", cpu: "2", used: used)], seed: 1)
        // 1.5 of 2 CPUs used; 1 more needs one 500m pod gone: the priority-100 pod and the earlier-started
        // priority-0 pod are reprieved, the later-started one goes.
        #expect(r.preemption?.victims.map(\.name) == ["b"])
    }

    @Test func fewerMoreImportantVictimsLoseToLessImportantOnes() throws {
        // node-1 would lose one pod of priority 10; node-2 two pods of priority 5: the highest victim priority decides.
        let nodes = [hostNode("node-1", cpu: "2", used: [prioritized("ten", 10, cpu: "1500m")]),
                     hostNode("node-2", cpu: "2", used: [prioritized("five-a", 5, cpu: "750m"), prioritized("five-b", 5, cpu: "750m")])]
        let r = SchedulingAlgorithm.run(pod: prioritized("urgent", 1000, cpu: "1500m"), nodes: nodes, seed: 1)
        #expect(r.preemption?.node == "node-2" && r.preemption?.victims.count == 2)
    }

    @Test func aNeverPolicyPodWaitsAndSaysWhy() {
        let nodes = [hostNode("node-1", cpu: "2", used: [prioritized("low", 0, cpu: "1500m")])]
        let r = SchedulingAlgorithm.run(pod: prioritized("polite", 1000, cpu: "1500m", never: true), nodes: nodes, seed: 1)
        #expect(r.preemption?.node == nil)
        #expect(r.unschedulableMessage == "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.")
    }

    @Test func withNothingToPreemptTheMessageEndsAsKubeSchedulersDoes() {
        let tainted = node("node-3", cpu: "8", labels: [TopologyKey.hostname: "node-3"], taints: [Taint(key: "dedicated", value: "gpu", effect: "NoSchedule")])
        let nodes = [hostNode("node-1", cpu: "2", used: [prioritized("peer-1", 1000, cpu: "1500m")]),
                     hostNode("node-2", cpu: "2", used: [prioritized("peer-2", 1000, cpu: "1500m")]), tainted]
        let r = SchedulingAlgorithm.run(pod: prioritized("urgent", 1000, cpu: "1500m"), nodes: nodes, seed: 1)
        #expect(r.unschedulableMessage == "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.")
    }

    @Test func aNominatedPodsRoomIsHeldAgainstPodsOfNoHigherPriority() {
        let node1 = hostNode("node-1", cpu: "2")
        let urgent = PodInfo(prioritized("urgent", 1000, cpu: "1500m"))
        let cluster = ClusterSnapshot(nodes: [node1], nominated: ["node-1": [urgent]])
        let same = SchedulingAlgorithm.run(pod: prioritized("polite", 1000, cpu: "1500m", never: true), cluster: cluster, seed: 1)
        #expect(same.chosen == nil)
        let higher = SchedulingAlgorithm.run(pod: prioritized("critical", 2000, cpu: "1500m"), cluster: cluster, seed: 1)
        #expect(higher.chosen == "node-1")
        // The nominated pod itself is not held against itself.
        #expect(SchedulingAlgorithm.run(pod: prioritized("urgent", 1000, cpu: "1500m"), cluster: cluster, seed: 1).chosen == "node-1")
    }
}

/// NodeResourcesFit's request as kube-scheduler 1.32 computes it: sidecars, overhead, extended resources.
@Suite struct ResourceRequestTests {
    func container(_ name: String, cpu: String, sidecar: Bool = false) -> Container {
        var c = Container(name: name, image: "app:1")
        c.resources = ResourceRequirements(requests: ["cpu": try! Quantity(parsing: cpu)])
        if sidecar { c.restartPolicy = "Always" }
        return c
    }

    @Test func sidecarsRunBesideTheContainersAndLaterInitContainers() {
        var p = pod("sidecars")
        p.spec.containers = [container("app", cpu: "1")]
        // A sidecar of 500m, then an init container of 2: the init step needs 2.5, the run 1.5.
        p.spec.initContainers = [container("proxy", cpu: "500m", sidecar: true), container("migrate", cpu: "2")]
        #expect(PodRequest(p).requested.milliCPU == 2500)
        p.spec.initContainers = [container("proxy", cpu: "500m", sidecar: true), container("warm", cpu: "1")]
        #expect(PodRequest(p).requested.milliCPU == 1500)
    }

    @Test func overheadIsAddedToTheRequest() {
        var p = pod("kata", cpu: "1", memory: "1Gi")
        p.spec.overhead = ["cpu": try! Quantity(parsing: "250m"), "memory": try! Quantity(parsing: "120Mi")]
        let r = PodRequest(p)
        #expect(r.requested.milliCPU == 1250 && r.requested.memory == (1 << 30) + 120 * (1 << 20))
    }

    @Test func extendedResourcesMustFitByName() {
        var gpuNode = Node(metadata: ObjectMeta(name: "gpu-1"))
        let capacity: [String: Quantity] = ["cpu": Quantity(8), "memory": try! Quantity(parsing: "16Gi"), "pods": Quantity(110), "nvidia.com/gpu": Quantity(1)]
        gpuNode.status = NodeStatus(capacity: capacity, allocatable: capacity)
        var p = pod("trainer", cpu: "1")
        p.spec.containers[0].resources?.requests?["nvidia.com/gpu"] = Quantity(1)
        let nodes = [NodeInfo(gpuNode), node("plain")]
        let first = SchedulingAlgorithm.run(pod: p, nodes: nodes, seed: 1)
        #expect(first.chosen == "gpu-1")
        nodes[0].add(PodInfo(p))
        var second = p
        second.metadata.name = "trainer-2"
        second.metadata.uid = "uid-trainer-2"
        let r = SchedulingAlgorithm.run(pod: second, nodes: nodes, seed: 1)
        #expect(r.chosen == nil)
        #expect(r.unschedulableMessage.hasPrefix("0/2 nodes are available: 2 Insufficient nvidia.com/gpu."), "\(r.unschedulableMessage)")
    }
}
