import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// A live cluster that behaves like one: incidents staged with `kj fault` and `kj node`, restarts
    /// that carry on from the journal, Kubernetes' own Events, and namespaces that can be deleted.
    @Suite struct LiveClusterTests {
        /// `kj fault|node …` against `cluster`.
        func kjRemote(_ cluster: ServedCluster, _ arguments: [String]) throws -> ProcessResult {
            try runKJ(arguments + ["--kubeconfig", cluster.kubeconfig])
        }

        func jsonpath(_ cluster: ServedCluster, _ what: [String], _ path: String) throws -> String {
            try cluster.kubectl(["get"] + what + ["-o", "jsonpath=\(path)"]).stdout
        }

        @Test(.timeLimit(.minutes(6)))
        func aCrashedNodesPodsAreReplacedElsewhereAndAnAddedNodeTakesWhatDidNotFit() throws {
            let cluster = try ServedCluster(nodes: 3, options: ["--node-monitor-grace-period", "15s", "--default-unreachable-toleration-seconds", "3",
                                                                "--default-not-ready-toleration-seconds", "3"])
            let manifest = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  replicas: 6
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec: {containers: [{name: c, image: nginx}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec: {selector: {app: web}, ports: [{port: 80}]}
                """
            let file = cluster.directory.sub("web.yaml")
            try manifest.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try cluster.kubectl(["apply", "-f", file]).status == 0)
            _ = try cluster.eventually(90, "6 web pods ready") { try jsonpath(cluster, ["deployment", "web"], "{.status.readyReplicas}") == "6" }
            let onNode2 = try jsonpath(cluster, ["pods", "-l", "app=web", "--field-selector", "spec.nodeName=node-2"], "{.items[*].metadata.name}")
                .split(separator: " ").map(String.init)
            #expect(!onNode2.isEmpty, "the spread put no pod on node-2")
            let original = Set(try jsonpath(cluster, ["pods", "-l", "app=web"], "{.items[*].metadata.name}").split(separator: " ").map(String.init))

            // The viewer may not stage anything; an unknown node is refused with a reason.
            let unknown = try kjRemote(cluster, ["fault", "crash", "node-9"])
            #expect(unknown.status == 1 && unknown.stderr.contains("node-9"), "\(unknown.stderr)")

            let crash = try kjRemote(cluster, ["fault", "crash", "node-2"])
            #expect(crash.status == 0, "\(crash.stderr)")
            #expect(crash.stdout.contains("crash journalled at revision"))
            _ = try cluster.eventually(60, "node-2 NotReady") {
                try jsonpath(cluster, ["node", "node-2"], #"{.status.conditions[?(@.type=="Ready")].status}"#) == "Unknown"
            }
            #expect(try jsonpath(cluster, ["node", "node-2"], "{.spec.taints[*].key}").contains("node.kubernetes.io/unreachable"))
            // Evicted after their 3 s toleration, replaced on the other nodes; the Endpoints follow.
            _ = try cluster.eventually(90, "6 ready web pods on the other nodes") {
                // The evicted pods stay Terminating on node-2 until its kubelet is back: count the others.
                let pods = try JSONSerialization.jsonObject(with: Data(try cluster.kubectl(["get", "pods", "-l", "app=web", "-o", "json"]).stdout.utf8)) as? [String: Any]
                let live = (pods?["items"] as? [[String: Any]] ?? []).filter { ($0["metadata"] as? [String: Any])?["deletionTimestamp"] == nil }
                let nodes = live.compactMap { ($0["spec"] as? [String: Any])?["nodeName"] as? String }
                let ready = try jsonpath(cluster, ["deployment", "web"], "{.status.readyReplicas}")
                return ready == "6" && nodes.count == 6 && !nodes.contains("node-2")
            }
            _ = try cluster.eventually(60, "the Endpoints without node-2's pods") {
                try jsonpath(cluster, ["endpoints", "web"], "{.subsets[*].addresses[*].nodeName}").split(separator: " ").allSatisfy { $0 != "node-2" }
            }
            // kj why on a replacement names the fault and who injected it.
            let pods = try jsonpath(cluster, ["pods", "-l", "app=web"], "{.items[*].metadata.name}").split(separator: " ").map(String.init)
            let replacement = try #require(pods.first { !original.contains($0) }, "no replacement pod")
            let why = try cluster.kj(["why", "pod/\(replacement)"])
            #expect(why.status == 0)
            #expect(why.stdout.contains("node node-2 crashed") && why.stdout.contains("user/admin"), "\(why.stdout)")

            let recover = try kjRemote(cluster, ["fault", "recover", "node-2"])
            #expect(recover.status == 0, "\(recover.stderr)")
            _ = try cluster.eventually(60, "node-2 Ready again") {
                try jsonpath(cluster, ["node", "node-2"], #"{.status.conditions[?(@.type=="Ready")].status}"#) == "True"
            }

            // A pod too big for the three nodes waits; a node added for it takes it.
            let big = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"big"},"spec":{"containers":[{"name":"c","image":"nginx","resources":{"requests":{"cpu":"32"}}}]}}"#
            #expect(try cluster.curl("POST", "/api/v1/namespaces/default/pods", token: cluster.adminToken, body: big).code == 201)
            let add = try kjRemote(cluster, ["node", "add", "node-4", "--cpu", "64", "--memory", "64Gi", "--label", "size=xl"])
            #expect(add.status == 0, "\(add.stderr)")
            _ = try cluster.eventually(60, "big scheduled on node-4") { try jsonpath(cluster, ["pod", "big"], "{.spec.nodeName}") == "node-4" }
            #expect(try jsonpath(cluster, ["node", "node-4"], "{.metadata.labels.size}") == "xl")
            let events = try cluster.kj(["events", "--type", "FaultInjected"])
            #expect(events.stdout.contains("user/admin") && events.stdout.contains("node node-4 added"), "\(events.stdout)")
            #expect(cluster.stop() == 0)
        }

        @Test(.timeLimit(.minutes(10)))
        func viewersMayNotStageFaults() throws {
            let cluster = try ServedCluster(nodes: 1, withViewer: true)
            let body = #"{"fault":"crash","node":"node-1"}"#
            let (code, text) = try cluster.curl("POST", "/kj/v1/faults", token: cluster.viewerToken, body: body)
            #expect(code == 403, "\(text)")
            #expect(text.contains(#"cannot create resource \"faults\""#))
            #expect(try cluster.curl("POST", "/kj/v1/faults", token: cluster.adminToken, body: body).code == 201)
            #expect(cluster.stop() == 0)
        }

        /// SIGKILL the server with 20 running pods and start it again on the journal: every pod keeps
        /// its IP, start and restart count; nothing is started or pulled again.
        @Test(.timeLimit(.minutes(5)))
        func aRestartAfterSIGKILLCarriesOnFromTheJournal() throws {
            let cluster = try ServedCluster(nodes: 2)
            #expect(try cluster.kubectl(["create", "deployment", "web", "--image=nginx", "--replicas=20"]).status == 0)
            _ = try cluster.eventually(120, "20 web pods ready") { try jsonpath(cluster, ["deployment", "web"], "{.status.readyReplicas}") == "20" }
            let before = try jsonpath(cluster, ["pods", "-l", "app=web"], #"{range .items[*]}{.metadata.name} {.status.podIP} {.status.containerStatuses[0].restartCount} {.status.startTime}{"\n"}{end}"#)
            kill(cluster.process.processIdentifier, SIGKILL)
            cluster.process.waitUntilExit()
            let head = try cluster.kj(["journal", "stat", "-o", "json"]).stdout
            let resumedAt = try #require((try JSONSerialization.jsonObject(with: Data(head.utf8)) as? [String: Any])?["headRevision"] as? Int)

            let restarted = try ServedCluster(nodes: 2, after: cluster)
            // Both kubelets back (they register again at once, in the same pass as anything they
            // would restart).
            _ = try restarted.eventually(60, "both kubelets registered again") {
                let decided = try restarted.kj(["events", "--type", "KubeletDecided", "--from", String(resumedAt + 1), "-o", "json"]).stdout
                return decided.components(separatedBy: "register node").count > 2
            }
            let after = try jsonpath(restarted, ["pods", "-l", "app=web"], #"{range .items[*]}{.metadata.name} {.status.podIP} {.status.containerStatuses[0].restartCount} {.status.startTime}{"\n"}{end}"#)
            #expect(after == before, "pods changed across the restart:\n\(before)\n---\n\(after)")
            #expect(try jsonpath(restarted, ["deployment", "web"], "{.status.readyReplicas}") == "20")
            let decided = try restarted.kj(["events", "--type", "KubeletDecided", "--from", String(resumedAt + 1), "-o", "json"]).stdout
            let summaries = (try JSONSerialization.jsonObject(with: Data(decided.utf8)) as? [[String: Any]] ?? []).compactMap { $0["summary"] as? String }
            let restartedContainers = summaries.filter { $0.hasPrefix("start ") || $0.hasPrefix("restart") }
            #expect(restartedContainers.isEmpty, "containers were started again: \(restartedContainers)")
            let started = try restarted.kj(["events", "--type", "ControlPlaneStarted", "--from", String(resumedAt + 1)]).stdout
            #expect(started.contains("after the previous run was killed or crashed"), "\(started)")
            #expect(restarted.stop() == 0)
            #expect(try restarted.kj(["journal", "verify"]).status == 0)
        }

        @Test(.timeLimit(.minutes(4)))
        func describeShowsTheControllersEventsAndOldEventsExpire() throws {
            let cluster = try ServedCluster(nodes: 1, options: ["--event-ttl", "20s"])
            #expect(try cluster.kubectl(["create", "deployment", "web", "--image=nginx", "--replicas=2"]).status == 0)
            _ = try cluster.eventually(60, "2 web pods ready") { try jsonpath(cluster, ["deployment", "web"], "{.status.readyReplicas}") == "2" }
            let deployment = try cluster.kubectl(["describe", "deployment", "web"]).stdout
            #expect(deployment.contains("ScalingReplicaSet") && deployment.contains("Scaled up replica set web-"), "\(deployment)")
            let rs = try cluster.kubectl(["describe", "rs", "-l", "app=web"]).stdout
            #expect(rs.contains("SuccessfulCreate") && rs.contains("Created pod: web-"), "\(rs)")
            let head = try JSONSerialization.jsonObject(with: Data(try cluster.kj(["journal", "stat", "-o", "json"]).stdout.utf8)) as? [String: Any]
            let then = String(try #require(head?["headRevision"] as? Int))
            _ = try cluster.eventually(90, "the Events expired") { try cluster.kubectl(["get", "events", "-o", "name"]).stdout.isEmpty }
            // The journal still has them.
            let past = try cluster.kj(["get", "events", "--at", then])
            #expect(past.stdout.contains("ScalingReplicaSet"), "\(past.stdout)")
            let expiry = try cluster.kj(["events", "--actor", "controller/event-ttl"])
            #expect(expiry.stdout.contains("expire"), "\(expiry.stdout)")
            #expect(cluster.stop() == 0)
        }

        @Test(.timeLimit(.minutes(4)))
        func deletingANamespaceDeletesWhatItHoldsThenItself() throws {
            let cluster = try ServedCluster(nodes: 1)
            #expect(try cluster.kubectl(["create", "namespace", "team-a"]).status == 0)
            #expect(try cluster.kubectl(["-n", "team-a", "create", "deployment", "web", "--image=nginx", "--replicas=2"]).status == 0)
            #expect(try cluster.kubectl(["-n", "team-a", "create", "service", "clusterip", "web", "--tcp=80:80"]).status == 0)
            _ = try cluster.eventually(60, "team-a's pods ready") { try jsonpath(cluster, ["-n", "team-a", "deployment", "web"], "{.status.readyReplicas}") == "2" }
            let refused = try cluster.kubectl(["delete", "namespace", "default"])
            #expect(refused.status != 0 && refused.stderr.contains("this namespace may not be deleted"), "\(refused.stderr)")
            let deleted = try cluster.kubectl(["delete", "namespace", "team-a", "--timeout=90s"])
            #expect(deleted.status == 0, "\(deleted.stderr)")
            #expect(try cluster.kubectl(["get", "namespace", "team-a"]).status != 0)
            let history = try cluster.kj(["history", "namespace/team-a"]).stdout
            #expect(history.contains("delete-content") && history.contains("finalize"), "\(history)")
            #expect(cluster.stop() == 0)
        }

        @Test(.timeLimit(.minutes(10)))
        func nothingNewInANamespaceBeingDeleted() throws {
            let cluster = try ServedCluster(nodes: 1)
            #expect(try cluster.kubectl(["create", "namespace", "team-b"]).status == 0)
            let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"slow","annotations":{"sim.kubejournal.io/ignore-sigterm":"true"}},"spec":{"terminationGracePeriodSeconds":30,"containers":[{"name":"c","image":"nginx"}]}}"#
            #expect(try cluster.curl("POST", "/api/v1/namespaces/team-b/pods", token: cluster.adminToken, body: pod).code == 201)
            _ = try cluster.eventually(60, "slow running") { try jsonpath(cluster, ["-n", "team-b", "pod", "slow"], "{.status.phase}") == "Running" }
            #expect(try cluster.kubectl(["delete", "namespace", "team-b", "--wait=false"]).status == 0)
            let (code, text) = try cluster.curl("POST", "/api/v1/namespaces/team-b/pods", token: cluster.adminToken, body: pod.replacingOccurrences(of: "slow", with: "late"))
            #expect(code == 403, "\(text)")
            #expect(text.contains("unable to create new content in namespace team-b because it is being terminated"), "\(text)")
            #expect(try jsonpath(cluster, ["namespace", "team-b"], "{.status.phase}") == "Terminating")
            #expect(cluster.stop() == 0)
        }

        /// On the wall clock a grace period ends a few milliseconds late: the SIGKILL line says how
        /// long it really was (it said "after 0s").
        @Test(.timeLimit(.minutes(10)))
        func theSIGKILLLineStatesTheGraceThatPassed() throws {
            let cluster = try ServedCluster(nodes: 1)
            let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"stubborn","annotations":{"sim.kubejournal.io/ignore-sigterm":"true"}},"spec":{"terminationGracePeriodSeconds":2,"containers":[{"name":"c","image":"nginx"}]}}"#
            #expect(try cluster.curl("POST", "/api/v1/namespaces/default/pods", token: cluster.adminToken, body: pod).code == 201)
            _ = try cluster.eventually(60, "stubborn running") { try jsonpath(cluster, ["pod", "stubborn"], "{.status.phase}") == "Running" }
            #expect(try cluster.kubectl(["delete", "pod", "stubborn", "--timeout=60s"]).status == 0)
            let history = try cluster.kj(["history", "pod/stubborn"]).stdout
            let line = try #require(history.split(separator: "\n").first { $0.contains("send SIGKILL") }, "\(history)")
            #expect(line.contains("grace period over after 2s") || line.contains("grace period over after 2."), "\(line)")
            #expect(cluster.stop() == 0)
        }
    }
}
