import Foundation
import ClusterModel
import Journal
import Queries
import Testing
import TestSupport

/// `kj why` and `kj history` on the key pods of every replay scenario: the JSON form must match
/// the golden files in `golden/`, and the table form must state the facts a reader comes for.
///
/// After an intended change of output, regenerate the golden files with
/// `KJ_UPDATE_GOLDEN=1 swift test --filter ScenarioQueriesTests` and review the diff.
@Suite struct ScenarioQueriesTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var scenario: String
        var pod: String
        var at: String? = nil
        /// Text the table form of `kj why` must contain.
        var why: [String]
        /// Text the table form of `kj history` must contain.
        var history: [String]

        var testDescription: String { "\(scenario) pod/\(pod)" + (at.map { " --at \($0)" } ?? "") }
        var goldenStem: String { "\(scenario)/\(pod)" + (at.map { "@\($0)" } ?? "") }
    }

    static let cases: [Case] = [
        Case(scenario: "pod-create", pod: "nginx",
             why: ["is on node-2", "by scheduler/default-scheduler", "user/alice", "3/3 nodes feasible"],
             history: ["user/alice", "SchedulingDecided", "bound to node-2", "Pulling image \"nginx:1.27\"",
                       "Started container nginx", "pod status: Running, Ready"]),
        Case(scenario: "pod-delete-grace", pod: "web",
             why: ["is gone", "ran on node-1", "deletion requested at revision 44", "by user/bob", "exit 137"],
             history: ["user/bob", "DeletionStarted", "endpoints: update, remove 10.244.1.2", "preStop hook (5s)",
                       "send SIGTERM (the container ignores it)", "send SIGKILL: grace period over after 30s", "pod web removed"]),
        Case(scenario: "node-failure", pod: "web-vl6wpk9zjd-d72db",
             why: ["is on node-3", "node node-2 crashed", "simulation/fault-injector", "node-lifecycle: mark-unreachable",
                   "evict (the pod tolerated the taint for 300s)", "replicaset: create 1 (2 active pod(s), 3 wanted)",
                   "untolerated taint {node.kubernetes.io/unreachable: } (TaintToleration): node-2", "Tie-break"],
             history: ["controller/replicaset", "bound to node-3"]),
        Case(scenario: "node-failure", pod: "web-vl6wpk9zjd-h2gtl",
             why: ["is gone", "ran on node-2", "by controller/node-lifecycle", "evict"],
             history: ["TaintManagerEviction", "DeletionStarted", "pod web-vl6wpk9zjd-d72db created", "pod web-vl6wpk9zjd-h2gtl removed"]),
        Case(scenario: "unschedulable", pod: "big", at: "33",
             why: ["is Pending", "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.",
                   "Insufficient cpu (NodeResourcesFit): node-1, node-2", "needs 2 cpu",
                   "add a toleration for {dedicated: gpu}"],
             history: ["unschedulable: 0/3 nodes are available"]),
        Case(scenario: "unschedulable", pod: "big",
             why: ["is on node-4", "attempt 2", "node node-4 created", "(71)", "1/4 nodes feasible"],
             history: ["FailedScheduling", "bound to node-4"]),
        Case(scenario: "restart-always", pod: "crasher",
             why: ["is on node-2", "Tie-break", "node-1, node-2"],
             history: ["CrashLoopBackOff", "Back-off restarting failed container"]),
        Case(scenario: "restart-always", pod: "web-jpjtk",
             why: ["is on node-2", "replicaset: create 1"],
             history: ["controller/replicaset", "bound to node-2"]),
        Case(scenario: "rolling-update", pod: "web-wb47hp2ptw-ts84p",
             why: ["deployment web updated", "web-wb47hp2ptw", "bound to node-2"],
             history: ["SchedulingDecided"]),
        Case(scenario: "rolling-update", pod: "web-bnzd7hvxcw-x9bm2",
             why: ["is gone", "by controller/replicaset", "replicaset: delete web-bnzd7hvxcw-x9bm2 (3 active pod(s), 2 wanted)"],
             history: ["DeletionStarted", "pod web-bnzd7hvxcw-x9bm2 removed"]),
    ]

    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("golden").path

    @Test(arguments: cases) func whyAndHistoryMatchTheGoldenFilesAndStateTheFacts(_ c: Case) throws {
        let journal = try SimulatedScenarios.shared.journal(c.scenario)
        let at = c.at.map { ["--at", $0] } ?? []

        for (command, facts) in [("why", c.why), ("history", c.history)] {
            let table = try runKJ([command, "pod/\(c.pod)", "--journal", journal] + at)
            #expect(table.status == 0, "\(command): \(table.stderr)")
            for fact in facts { #expect(table.stdout.contains(fact), "kj \(command) of \(c.testDescription) should say \(fact)") }

            let json = try runKJ([command, "pod/\(c.pod)", "--journal", journal, "-o", "json"] + at)
            #expect(json.status == 0, "\(command) -o json: \(json.stderr)")
            try matchGolden(json.stdout, file: "\(c.goldenStem).\(command).json")
        }
    }

    /// Every scheduling decision in every scenario — not only each pod's last — is reproduced by
    /// re-running the scheduler on the state it observed.
    @Test(arguments: SimulatedScenarios.names) func everyRecordedSchedulingDecisionIsReproduced(_ scenario: String) throws {
        let journal = try SimulatedScenarios.shared.reader(scenario)
        var decisions = 0
        try journal.read { view in try view.forEach(in: 1...(try view.head().revision)) { e in
            guard e.type == "SchedulingDecided" else { return true }
            decisions += 1
            let recorded = try JSONValue.parse(e.data)
            let rerun = try SchedulerReplay(decision: e, in: view).rerun()
            #expect(rerun.chosen == recorded["node"]?.stringValue, "decision \(e.revision) in \(scenario)")
            #expect(Int64(rerun.scores.count) == recorded["feasible"]?.intValue, "decision \(e.revision) in \(scenario)")
            return true
        } }
        #expect(decisions > 0)
    }

    /// `kj why --full` says it agrees, for every pod of every scenario that was ever scheduled.
    @Test(arguments: SimulatedScenarios.names) func whyFullAgreesForEveryPod(_ scenario: String) throws {
        let path = try SimulatedScenarios.shared.journal(scenario)
        let journal = try SimulatedScenarios.shared.reader(scenario)
        var pods = Set<ObjectKey>()
        try journal.read { view in try view.forEach(in: 1...(try view.head().revision)) { e in
            if e.type == "SchedulingDecided" { pods.insert(e.object.key) }
            return true
        } }
        #expect(!pods.isEmpty)
        for key in pods.sorted() {
            let pod = key.name
            let explanation = try journal.read { try PodExplanation.explain(namespace: key.namespace, name: pod, full: true, in: $0) }
            #expect(explanation.rerun?.agrees == true, "kj why pod/\(pod) --full in \(scenario)")
            let printed = try runKJ(["why", "pod/\(pod)", "-n", key.namespace, "--full", "--journal", path])
            #expect(printed.stdout.contains("Re-run on the observed state: agrees"), "\(scenario) \(pod): \(printed.stdout)")
        }
    }

    private func matchGolden(_ output: String, file: String) throws {
        let path = Self.goldenDirectory + "/" + file
        if ProcessInfo.processInfo.environment["KJ_UPDATE_GOLDEN"] != nil {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try output.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8)
        #expect(output == golden, "\(file) differs from its golden file; if the change is intended, run KJ_UPDATE_GOLDEN=1 swift test --filter ScenarioQueriesTests")
    }
}

/// Each replay scenario simulated once per test process, into its own temporary journal.
final class SimulatedScenarios: @unchecked Sendable {
    static let shared = SimulatedScenarios()
    static let names = ["pod-create", "pod-delete-grace", "node-failure", "unschedulable", "restart-always", "rolling-update", "missing-config", "job-backoff", "cronjob-forbid", "daemonset", "statefulset", "volume-binding"]

    private let lock = NSLock()
    /// Where the journals are. A static instance is never deinitialised, so the directory is
    /// removed when the test process exits (else every run would leave its journals behind).
    private static let root = TemporaryDirectory("kj-scenarios")
    private var directory: TemporaryDirectory { Self.root }

    private init() {
        atexit { try? FileManager.default.removeItem(atPath: SimulatedScenarios.root.path) }
    }
    private var done: [String: String] = [:]
    private var readers: [String: Journal] = [:]

    /// One read-only handle per scenario journal (LMDB allows one per process).
    func reader(_ scenario: String) throws -> Journal {
        let path = try journal(scenario)
        lock.lock()
        defer { lock.unlock() }
        if let open = readers[scenario] { return open }
        let opened = try Journal.open(at: path, options: .reader)
        readers[scenario] = opened
        return opened
    }

    func journal(_ scenario: String) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let path = done[scenario] { return path }
        let path = directory.sub(scenario)
        let result = try runKJ(["simulate", packageRoot + "/replay/\(scenario).yaml", "--journal", path, "--quiet"])
        guard result.status == 0 else { throw SimulationFailed(scenario: scenario, output: result.stdout + result.stderr) }
        done[scenario] = path
        return path
    }

    struct SimulationFailed: Error { var scenario: String; var output: String }
}

/// `kj why KIND/NAME` on kinds other than pods: who made the object, the chain behind that, and
/// its latest change of desired state.
@Suite struct ObjectExplanationTests {
    @Test func aDefaultServiceAccountIsExplainedByItsNamespace() throws {
        let journal = try SimulatedScenarios.shared.reader("pod-create")
        let x = try journal.read { try ObjectExplanation.explain(ObjectKey(kind: "ServiceAccount", namespace: "default", name: "default"), in: $0) }
        #expect(x.status == .exists && x.createdBy == "controller/serviceaccount")
        #expect(x.creation.map(\.type) == ["Created", "ControllerDecided", "Created"])
        #expect(x.creation.first?.object == "Namespace/default" && x.creation.first?.actor == "system/bootstrap")
        #expect(x.latest == nil)
    }

    @Test func aDeploymentsLatestChangeLeadsBackToTheUsersUpdate() throws {
        let journal = try SimulatedScenarios.shared.reader("rolling-update")
        let key = ObjectKey(kind: "Deployment", namespace: "default", name: "web")
        let atUpdate = try journal.read { view in
            try ObjectExplanation.explain(key, at: try #require(PointInTime("2026-01-01T10:02:00Z")).revision(in: view), in: view)
        }
        #expect(atUpdate.status == .exists && atUpdate.createdBy == "user/alice")
        #expect(atUpdate.latestBy == "controller/deployment" && atUpdate.latestType == "Updated")
        #expect(atUpdate.latestCauses?.first?.actor == "user/alice" && atUpdate.latestCauses?.first?.type == "Updated")
        #expect(atUpdate.latestCauses?.last?.changes.contains { $0.path.contains("deployment.kubernetes.io/revision") } == true)
        #expect(atUpdate.statusWrittenBy == "controller/deployment")
        let atEnd = try journal.read { try ObjectExplanation.explain(key, in: $0) }
        #expect(atEnd.status == .gone && atEnd.latestType == "Deleted" && atEnd.latestBy == "user/alice")
    }
}
