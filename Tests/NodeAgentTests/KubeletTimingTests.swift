import ClusterModel
import Foundation
import Journal
import Simulation
import Testing
import TestSupport

/// The simulated kubelet's timings, read back from the decisions it journals.
@Suite struct KubeletTimingTests {
    struct Decision {
        var action: String
        var seconds: Double  // since the scenario started
        var data: JSONValue
    }

    /// Simulates `timeline` on one node and returns the kubelet's decisions about pod `pod`, and
    /// the time its deletion started, if it did.
    func kubeletDecisions(about pod: String, duration: String, timeline: String) async throws -> (decisions: [Decision], deletionStarted: Double?) {
        let yaml = """
            name: kubelet-timing
            seed: 7
            duration: \(duration)
            cluster:
              nodes:
              - {name: node-1, cpu: "4", memory: 8Gi, images: ["app:1"]}
            timeline:
            \(timeline)
            """
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        let scenario = try Scenario(yaml: yaml)
        let simulator = try await Simulator(scenario: scenario, journal: journal)
        try await simulator.run()
        let events = try journal.read { try $0.events(in: 1...UInt64.max) }
        func seconds(_ e: Event) -> Double { Double(e.time.microseconds - scenario.start.microseconds) / 1_000_000 }
        let decisions = try events.filter { $0.type == "KubeletDecided" && $0.object.name == pod }.map { e in
            let data = try JSONValue.parse(e.data)
            return Decision(action: data["action"]?.stringValue ?? "", seconds: seconds(e), data: data)
        }
        let deletion = events.first { $0.type == "DeletionStarted" && $0.object.name == pod }.map(seconds)
        return (decisions, deletion)
    }

    /// CrashLoopBackOff: 10 s, doubling, capped at five minutes; each restart happens when its
    /// back-off ends.
    @Test func crashLoopBackOffDoublesFromTenSecondsToFiveMinutes() async throws {
        let run = try await kubeletDecisions(about: "crasher", duration: "40m", timeline: """
            - at: 1s
              apply: |
                apiVersion: v1
                kind: Pod
                metadata:
                  name: crasher
                  annotations: {sim.kubejournal.io/exit-after-seconds: "2", sim.kubejournal.io/exit-code: "3"}
                spec:
                  containers: [{name: app, image: "app:1"}]
            """)
        let backoffs = run.decisions.filter { $0.action == "backoff" }
        #expect(backoffs.prefix(8).map { $0.data["backoffSeconds"]?.intValue } == [10, 20, 40, 80, 160, 300, 300, 300])
        #expect(backoffs.allSatisfy { $0.data["exitCode"]?.intValue == 3 })
        let restarts = run.decisions.filter { $0.action == "restart" }
        #expect(restarts.count >= 7)
        for (backoff, restart) in zip(backoffs, restarts) {
            let wait = Double(backoff.data["backoffSeconds"]?.intValue ?? 0)
            #expect(abs(restart.seconds - backoff.seconds - wait) < 0.001, "restart at \(restart.seconds)s after back-off at \(backoff.seconds)s")
        }
    }

    /// Deletion with a preStop hook longer than the grace period: SIGTERM waits for the hook, and
    /// SIGKILL comes at the grace period plus the one-off 2 s extension.
    @Test func aPreStopHookStillRunningAtTheGracePeriodGetsTwoMoreSeconds() async throws {
        let run = try await kubeletDecisions(about: "slow-stop", duration: "3m", timeline: """
            - at: 1s
              apply: |
                apiVersion: v1
                kind: Pod
                metadata:
                  name: slow-stop
                  annotations: {sim.kubejournal.io/prestop-seconds: "60", sim.kubejournal.io/ignore-sigterm: "true"}
                spec:
                  terminationGracePeriodSeconds: 20
                  containers:
                  - name: app
                    image: "app:1"
                    lifecycle: {preStop: {exec: {command: [sh, -c, "sleep 60"]}}}
            - at: 30s
              delete: pod/slow-stop
            """)
        let deleted = try #require(run.deletionStarted)
        let kill = try #require(run.decisions.first { $0.action == "SIGKILL" })
        #expect(abs(kill.seconds - deleted - 22) < 0.001, "SIGKILL \(kill.seconds - deleted)s after the deletion started")
        #expect(run.decisions.contains { $0.action == "preStop" })
        #expect(run.decisions.last?.action == "remove")
    }

    /// A container that honours SIGTERM exits after its stop time; no SIGKILL is needed.
    @Test func aContainerThatHonoursSigtermIsNotKilled() async throws {
        let run = try await kubeletDecisions(about: "polite", duration: "2m", timeline: """
            - at: 1s
              apply: |
                apiVersion: v1
                kind: Pod
                metadata:
                  name: polite
                  annotations: {sim.kubejournal.io/stop-seconds: "4"}
                spec:
                  containers: [{name: app, image: "app:1"}]
            - at: 30s
              delete: pod/polite
            """)
        let deleted = try #require(run.deletionStarted)
        let term = try #require(run.decisions.first { $0.action == "SIGTERM" })
        let remove = try #require(run.decisions.first { $0.action == "remove" })
        #expect(abs(term.seconds - deleted) < 0.001)
        #expect(abs(remove.seconds - deleted - 4) < 0.001, "removed \(remove.seconds - deleted)s after the deletion started")
        #expect(!run.decisions.contains { $0.action == "SIGKILL" })
    }
}
