import ClusterModel
import ControlPlane
import Foundation
import Journal
import Queries
import Scheduler
import Simulation
import Testing
import TestSupport

/// Decisions made with a configured profile name it, the profile is journalled once, and
/// `kj why --full` re-runs each decision with exactly that profile.
@Suite struct ProfileReplayTests {
    static let scenario = """
        name: packing
        seed: 3
        scheduler:
          apiVersion: kubescheduler.config.k8s.io/v1
          kind: KubeSchedulerConfiguration
          profiles:
          - schedulerName: default-scheduler
            plugins:
              score:
                disabled: [{name: PodTopologySpread}]
            pluginConfig:
            - name: NodeResourcesFit
              args: {scoringStrategy: {type: MostAllocated}}
          - schedulerName: spreading-scheduler
        cluster:
          nodes:
          - {namePrefix: node-, count: 3, cpu: "4", memory: 8Gi}
        timeline:
        - at: 1s
          apply: |
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: packed}
            spec:
              replicas: 6
              selector: {matchLabels: {app: packed}}
              template:
                metadata: {labels: {app: packed}}
                spec:
                  containers:
                  - {name: c, image: "nginx:1.27", resources: {requests: {cpu: 100m, memory: 128Mi}}}
        - at: 2s
          apply: |
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: spread}
            spec:
              replicas: 6
              selector: {matchLabels: {app: spread}}
              template:
                metadata: {labels: {app: spread}}
                spec:
                  schedulerName: spreading-scheduler
                  containers:
                  - {name: c, image: "nginx:1.27", resources: {requests: {cpu: 100m, memory: 128Mi}}}
        duration: 30s
        """

    func run(_ dir: TemporaryDirectory) async throws -> (Journal, String) {
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        let simulator = try await Simulator(scenario: try Scenario(yaml: Self.scenario), journal: journal)
        _ = try await simulator.run()
        let ndjson = try journal.read { try $0.events(in: 1...UInt64.max).map(NDJSON.line).joined(separator: "\n") }
        return (journal, ndjson)
    }

    @Test func eachProfileDecidesAsConfiguredAndEveryDecisionRerunsTheSame() async throws {
        let dir = TemporaryDirectory()
        let (journal, first) = try await run(dir)
        defer { journal.close() }
        var nodesByApp: [String: Set<String>] = [:]
        var configured: [String] = []
        var rerun = 0
        try journal.read { view in
            for e in try view.events(in: 1...UInt64.max) {
                if e.type == SchedulerConfigurations.configured { configured.append(e.object.name) }
                guard e.type == DecisionType.scheduling else { continue }
                let data = try JSONValue.parse(e.data)
                let app = e.object.name.hasPrefix("packed") ? "packed" : "spread"
                #expect(data["profile"]?.stringValue == (app == "packed" ? "default-scheduler" : "spreading-scheduler"))
                if let node = data["node"]?.stringValue { nodesByApp[app, default: []].insert(node) }
                let replay = try SchedulerReplay(decision: e, in: view)
                #expect(replay.profile.digest == data["profileDigest"]?.stringValue)
                #expect(replay.rerun().chosen == data["node"]?.stringValue, "decision \(e.revision)")
                rerun += 1
            }
        }
        #expect(rerun >= 12)
        // Only the configured default-scheduler differs from kube-scheduler's default profile.
        #expect(configured == ["default-scheduler"])
        #expect(nodesByApp["packed"]?.count == 1)
        #expect(nodesByApp["spread"]?.count == 3)
        // The same scenario and seed write the same journal with any profile.
        let again = TemporaryDirectory()
        let (second, text) = try await run(again)
        second.close()
        #expect(text == first)
    }
}

/// `kj why` on a pod that inter-pod anti-affinity keeps pending names the pods in its way and the
/// pods counted per domain.
@Suite struct AffinityExplanationTests {
    @Test func aPendingPodsWhyNamesThePodsItsAntiAffinityAvoids() async throws {
        let scenario = """
            name: apart
            cluster:
              nodes:
              - {name: a-1, labels: {topology.kubernetes.io/zone: a}}
              - {name: a-2, labels: {topology.kubernetes.io/zone: a}}
              - {name: b-1, labels: {topology.kubernetes.io/zone: b}}
            timeline:
            - at: 1s
              apply: |
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  replicas: 4
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      affinity:
                        podAntiAffinity:
                          requiredDuringSchedulingIgnoredDuringExecution:
                          - labelSelector: {matchLabels: {app: web}}
                            topologyKey: kubernetes.io/hostname
                      containers:
                      - {name: c, image: "nginx:1.27", resources: {requests: {cpu: 100m}}}
            duration: 30s
            """
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        _ = try await Simulator(scenario: try Scenario(yaml: scenario), journal: journal).run()
        try journal.read { view in
            let state = try Projection.state(in: view, at: nil, only: [.pod])
            let pending = state.list(.pod).filter { $0.nodeName == nil }
            try #require(pending.count == 1)
            let x = try PodExplanation.explain(namespace: "default", name: pending[0].key.name, in: view)
            let hint = try #require(x.pending?.hints.first { $0.contains("anti-affinity") })
            for node in ["a-1", "a-2", "b-1"] { #expect(hint.contains("on \(node)"), "\(hint)") }
            let rows = try #require(x.decision?.topology)
            #expect(rows.contains { $0.rule == "anti-affinity" && $0.domains == ["a-1: 1", "a-2: 1", "b-1: 1"] }, "\(rows)")
            #expect(x.decision?.preemption?.message?.contains("No preemption victims found") == true)
        }
    }
}
