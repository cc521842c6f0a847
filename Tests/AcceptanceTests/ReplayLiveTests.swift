import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// A live incident recorded by `kj serve` — a kubectl session with a Deployment, a rolling update,
    /// a node crash staged with `kj fault`, a node added with `kj node add`, a SIGKILL of the server
    /// and a restart — replayed.
    @Suite struct ReplayLiveTests {
        func jsonpath(_ cluster: ServedCluster, _ what: [String], _ path: String) throws -> String {
            try cluster.kubectl(["get"] + what + ["-o", "jsonpath=\(path)"]).stdout
        }

        /// Records the incident; returns the cluster (stopped) whose journal holds it.
        func recordIncident() throws -> ServedCluster {
            let options = ["--node-monitor-grace-period", "15s", "--default-unreachable-toleration-seconds", "3", "--default-not-ready-toleration-seconds", "3"]
            let cluster = try ServedCluster(nodes: 3, options: options)
            #expect(try cluster.kubectl(["create", "deployment", "web", "--image=nginx:1.27", "--replicas=4"]).status == 0)
            _ = try cluster.eventually(90, "4 web pods ready") { try jsonpath(cluster, ["deployment", "web"], "{.status.readyReplicas}") == "4" }
            #expect(try cluster.kubectl(["set", "image", "deployment/web", "nginx=nginx:1.28"]).status == 0)
            _ = try cluster.eventually(90, "the rolling update done") {
                try jsonpath(cluster, ["deployment", "web"], "{.status.updatedReplicas} {.status.readyReplicas} {.status.replicas}") == "4 4 4"
            }
            #expect(try runKJ(["fault", "crash", "node-2", "--kubeconfig", cluster.kubeconfig]).status == 0)
            _ = try cluster.eventually(90, "node-2's pods evicted") {
                try cluster.kj(["events", "--type", "NodeLifecycleDecided"]).stdout.contains("evict")
            }
            #expect(try runKJ(["node", "add", "node-4", "--kubeconfig", cluster.kubeconfig]).status == 0)
            _ = try cluster.eventually(30, "node-4 registered") { try jsonpath(cluster, ["node", "node-4"], "{.metadata.name}") == "node-4" }
            kill(cluster.pid, SIGKILL)
            cluster.process.waitUntilExit()
            let restarted = try ServedCluster(nodes: 3, options: options, after: cluster)
            #expect(try restarted.kubectl(["scale", "deployment/web", "--replicas=6"]).status == 0)
            _ = try restarted.eventually(90, "6 web pods ready") { try jsonpath(restarted, ["deployment", "web"], "{.status.readyReplicas}") == "6" }
            #expect(restarted.stop() == 0)
            return restarted
        }

        @Test(.timeLimit(.minutes(6)))
        func aLiveRecordingReplays() throws {
            let cluster = try recordIncident()
            let verified = try cluster.kj(["replay", "verify"])
            #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
            #expect(verified.stdout.contains("2 control plane run(s)"), "\(verified.stdout)")
            #expect(verified.stdout.contains("(100%)"), "\(verified.stdout)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(try cluster.kj(["replay", "verify", "-o", "json"]).stdout.utf8)) as? [String: Any])
            let components = (report["components"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            for name in ["deployment", "kubelets", "node-lifecycle", "replicaset", "scheduler"] { #expect(components.contains(name), "\(components)") }

            // Run again from its inputs in virtual time: the same outcomes, the wall clock's jitter listed.
            let out = cluster.directory.sub("rerun")
            let rerun = try cluster.kj(["replay", "run", "--out", out])
            #expect(rerun.status == 0, "\(rerun.stdout)\(rerun.stderr)")
            #expect(rerun.stdout.contains("Same outcomes: every pod on the same node"), "\(rerun.stdout)")
            #expect(rerun.stdout.contains("Timing differences"), "a live recording's timings differ from virtual time's: \(rerun.stdout)")
            let diff = try runKJ(["diff", "--journal", cluster.journal, "--against", out, "--kind", "pods"])
            #expect(diff.status == 0 && diff.stdout.contains("0 only in the second, 0 only in the first"), "\(diff.stdout)")

            // The incident as a scenario: kj simulate runs it and it ends as recorded.
            let file = cluster.directory.sub("incident.yaml")
            let extracted = try cluster.kj(["replay", "extract", "-o", file])
            #expect(extracted.status == 0, "\(extracted.stderr)")
            #expect(extracted.stderr.contains("the control plane restarted"), "the restart is named as what a scenario cannot say: \(extracted.stderr)")
            let simulated = try runKJ(["simulate", file, "--journal", cluster.directory.sub("simulated")])
            #expect(simulated.status == 0, "\(simulated.stdout)\(simulated.stderr)")
            #expect(simulated.stdout.contains("node node-2 ready=Unknown"), "the crash is in the scenario: \(simulated.stdout)")
        }
    }
}
