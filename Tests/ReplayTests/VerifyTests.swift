import ClusterModel
import ControlPlane
import Foundation
import Journal
import Replay
import Simulation
import Testing
import TestSupport

/// Simulates `scenario` (YAML text) into a new journal in `dir`.
func record(_ scenario: String, in dir: TemporaryDirectory, name: String = "recording") async throws -> String {
    let path = dir.sub(name)
    let journal = try Journal.open(at: path, options: JournalOptions(durability: .noSync))
    defer { journal.close() }
    let simulator = try await Simulator(scenario: try Scenario(yaml: scenario), journal: journal)
    for c in try await simulator.run() { #expect(c.passed, "\(c.expectation.summary): \(c.failure ?? "")") }
    return path
}

/// `kj replay verify` of the journal at `path`, in process.
func verify(_ path: String, from: UInt64 = 1, to: UInt64? = nil) async throws -> Verification {
    let scratch = TemporaryDirectory()
    let recording = try Journal.open(at: path, options: .reader)
    defer { recording.close() }
    let journal = try Journal.open(at: scratch.path, options: JournalOptions(durability: .noSync))
    defer { journal.close() }
    return try await ReplayVerifier(recording: recording, scratch: journal, from: from, to: to).run()
}

let scenarioFiles = ["pod-create.yaml", "restart-always.yaml", "node-failure.yaml", "pod-delete-grace.yaml", "unschedulable.yaml", "rolling-update.yaml", "preemption.yaml", "missing-config.yaml", "job-backoff.yaml", "cronjob-forbid.yaml", "daemonset.yaml", "statefulset.yaml", "volume-binding.yaml"]

@Suite struct VerifyTests {
    @Test(arguments: scenarioFiles)
    func everyDecisionOfEveryScenarioIsMadeAgain(file: String) async throws {
        let dir = TemporaryDirectory()
        let path = try await record(try String(contentsOfFile: packageRoot + "/replay/" + file, encoding: .utf8), in: dir)
        let v = try await verify(path)
        let agreed = v.agreed
        #expect(agreed, "\(file): \(v.disagreements.map { "\($0.revision) \($0.component)" })")
        #expect(v.runs == 1)
        let head = try Journal.open(at: path, options: .reader).head().revision
        #expect(UInt64(v.inputs + v.componentEvents) == head, "every event is either an input or a component's, and each was counted")
        for name in ["scheduler", "replicaset", "kubelets", "node-lifecycle"] {
            #expect((v.components[name]?.decisions ?? 0) > 0 || file != "node-failure.yaml", "\(file): no \(name) decision re-run")
        }
    }

    /// A rollout of 400 pods over 40 nodes, then a rolling update of all of them.
    @Test(.timeLimit(.minutes(5)))
    func aRolloutOf400PodsVerifies() async throws {
        let dir = TemporaryDirectory()
        let path = try await record("""
            name: rollout-400
            seed: 7
            cluster:
              nodes:
                - count: 40
                  cpu: "8"
                  memory: 16Gi
            timeline:
              - at: 0s
                apply: |
                  apiVersion: apps/v1
                  kind: Deployment
                  metadata: {name: web}
                  spec:
                    replicas: 400
                    selector: {matchLabels: {app: web}}
                    template:
                      metadata: {labels: {app: web}}
                      spec:
                        containers: [{name: nginx, image: "nginx:1.27", resources: {requests: {cpu: 100m, memory: 64Mi}}}]
              - at: 2m
                setImage: deployment/web
                image: nginx:1.28
              - at: 6m
                expect: {deployment: web, available: 400, updated: 400}
            """, in: dir)
        let v = try await verify(path)
        let agreed = v.agreed
        #expect(agreed, "\(v.disagreements.prefix(3).map { "\($0.revision) \($0.component) \($0.recorded.type)" })")
        #expect((v.components["scheduler"]?.decisions ?? 0) >= 800)
        #expect((v.components["kubelets"]?.decisions ?? 0) >= 800)
    }

    /// A recording whose scheduler decision says another node than the scheduler picks: the
    /// disagreement is found at that revision, with both sides, and the replay goes on.
    @Test func aDecisionTheComponentWouldNotMakeIsReported() async throws {
        let dir = TemporaryDirectory()
        let path = try await record(try String(contentsOfFile: packageRoot + "/replay/node-failure.yaml", encoding: .utf8), in: dir)
        let original = try Journal.open(at: path, options: .reader)
        let events = try original.read { try $0.events(in: 1...UInt64.max) }
        original.close()
        let first = try #require(events.first { $0.type == "SchedulingDecided" })
        let forged = dir.sub("forged")
        let journal = try Journal.open(at: forged, options: JournalOptions(durability: .noSync))
        for e in events {
            var draft = e.draft
            if e.revision == first.revision {
                var data = try JSONValue.parse(draft.data)
                let node = try #require(data["node"]?.stringValue)
                data["node"] = .string(node == "node-1" ? "node-2" : "node-1")
                draft.data = data.serialized()
            }
            _ = try journal.appendSynchronously([draft])
        }
        journal.close()
        let v = try await verify(forged)
        #expect(!v.agreed)
        let d = try #require(v.disagreements.first)
        #expect(d.revision == first.revision)
        #expect(d.component == "scheduler")
        #expect(d.produced?.data == first.draft.data, "the re-run made the decision the scheduler made when recording")
        #expect(v.components["scheduler"]!.disagreements == v.disagreements.filter { $0.component == "scheduler" }.count)
        // Everything after the forged decision's own step is checked again, and agrees.
        #expect(v.disagreements.allSatisfy { $0.component == "scheduler" })
        #expect(v.components["kubelets"]!.agreed > 100)
    }

    @Test func aRangeCountsOnlyItsDecisions() async throws {
        let dir = TemporaryDirectory()
        let path = try await record(try String(contentsOfFile: packageRoot + "/replay/pod-create.yaml", encoding: .utf8), in: dir)
        let all = try await verify(path)
        let part = try await verify(path, from: 20, to: 30)
        #expect(part.agreed)
        #expect(part.range == 20...30)
        #expect(UInt64(part.inputs + part.componentEvents) == 11)
        #expect(part.componentEvents < all.componentEvents)
    }

    @Test func aJournalThatIsNotAClusterJournalIsRefused() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.sub("plain"), options: JournalOptions(durability: .noSync))
        _ = try journal.appendSynchronously((1...5).map { i in
            EventDraft(time: Timestamp(microseconds: Int64(i)), type: "Created", actor: Actor(kind: "user", name: "u"),
                       object: ObjectRef(kind: "ConfigMap", namespace: "default", name: "c\(i)"), data: Array("{}".utf8))
        })
        journal.close()
        await #expect(throws: ReplayError.self) { _ = try await verify(dir.sub("plain")) }
    }
}
