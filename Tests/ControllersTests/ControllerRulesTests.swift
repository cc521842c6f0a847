import ClusterModel
@testable import Controllers
import Testing

/// The rules the controllers take from Kubernetes, checked against the answers Kubernetes gives.
@Suite struct ControllerRulesTests {
    func pod(_ name: String, node: String? = nil, phase: String? = nil, ready: Bool = false, readySince: String? = nil,
             restarts: Int32 = 0, created: String = "2026-01-01T00:00:00Z") -> Pod {
        var p = Pod(metadata: ObjectMeta(name: name), spec: PodSpec(containers: [Container(name: "app", image: "app:1")]))
        p.metadata.creationTimestamp = created
        p.spec.nodeName = node
        if let phase {
            var status = PodStatus(phase: phase)
            status.conditions = [PodCondition(type: "Ready", status: ready ? "True" : "False", lastTransitionTime: readySince)]
            status.containerStatuses = [ContainerStatus(name: "app", image: "app:1", ready: ready, restartCount: restarts)]
            p.status = status
        }
        return p
    }

    /// controller.ActivePods ranking: unassigned < assigned; Pending < Unknown < Running; not
    /// ready < ready; ready for less time first; more restarts first; newer first.
    @Test func scaleDownDeletesThePodsLeastWorthKeepingFirst() {
        let pods = [
            pod("ready-long", node: "n1", phase: "Running", ready: true, readySince: "2026-01-01T00:01:00Z"),
            pod("ready-recent", node: "n1", phase: "Running", ready: true, readySince: "2026-01-01T00:05:00Z"),
            pod("running-not-ready", node: "n1", phase: "Running"),
            pod("unassigned", phase: "Pending"),
            pod("pending-on-node", node: "n2", phase: "Pending"),
            pod("unknown", node: "n2", phase: "Unknown"),
            pod("crashy", node: "n1", phase: "Running", restarts: 4, created: "2026-01-01T00:00:00Z"),
            pod("newer", node: "n1", phase: "Running", created: "2026-01-01T00:09:00Z"),
        ]
        let order = ReplicaSetController.deletionOrder(pods).map { $0.metadata.name! }
        #expect(order == ["unassigned", "pending-on-node", "unknown", "crashy", "newer", "running-not-ready", "ready-recent", "ready-long"])
    }

    func deployment(surge: IntOrString?, unavailable: IntOrString?) -> Deployment {
        let template = PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web"]), spec: PodSpec(containers: [Container(name: "app", image: "app:1")]))
        let strategy = DeploymentStrategy(type: "RollingUpdate", rollingUpdate: RollingUpdateDeployment(maxUnavailable: unavailable, maxSurge: surge))
        return Deployment(metadata: ObjectMeta(name: "web"), spec: DeploymentSpec(
            replicas: 3, selector: LabelSelector(matchLabels: ["app": "web"]), template: template, strategy: strategy))
    }

    /// Percentages: maxSurge rounds up, maxUnavailable rounds down; both zero means one may be
    /// unavailable (deployment util ResolveFenceposts).
    @Test(arguments: [
        (IntOrString.string("25%"), IntOrString.string("25%"), 10, 3, 2),
        (.string("25%"), .string("25%"), 4, 1, 1),
        (.string("25%"), .string("25%"), 1, 1, 0),
        (.int(1), .int(0), 3, 1, 0),
        (.int(0), .int(0), 3, 0, 1),
        (.string("0%"), .string("0%"), 3, 0, 1),
        (.string("50%"), .int(5), 3, 2, 3),
    ])
    func rollingUpdateFenceposts(surge: IntOrString, unavailable: IntOrString, replicas: Int, expectedSurge: Int, expectedUnavailable: Int) {
        let d = deployment(surge: surge, unavailable: unavailable)
        #expect(DeploymentController.maxSurge(d, replicas) == expectedSurge)
        #expect(DeploymentController.maxUnavailable(d, replicas) == expectedUnavailable)
    }

    @Test func theTemplateHashNamesTheTemplateNotItsLabelOrder() {
        var a = PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web", "tier": "front"]),
                                spec: PodSpec(containers: [Container(name: "app", image: "app:1")]))
        let b = PodTemplateSpec(metadata: ObjectMeta(labels: ["tier": "front", "app": "web"]),
                                spec: PodSpec(containers: [Container(name: "app", image: "app:1")]))
        #expect(DeploymentController.templateHash(a) == DeploymentController.templateHash(b))
        let before = DeploymentController.templateHash(a)
        a.spec.containers[0].image = "app:2"
        #expect(DeploymentController.templateHash(a) != before)
        #expect(before.allSatisfy { $0.isLetter || $0.isNumber } && before.count >= 8)
    }
}
