import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// The rest of `kj serve`: queries through the server, metrics, patches, chunked lists, watches
    /// from the past, and a clean stop.
    @Suite struct ServeFeatureTests {
        func runningPod(_ cluster: ServedCluster, _ name: String) throws {
            #expect(try cluster.kubectl(["run", name, "--image=nginx", "--labels=app=\(name)"]).status == 0)
            _ = try cluster.eventually(60, "\(name) Running") {
                try cluster.kubectl(["get", "pod", name, "-o", "jsonpath={.status.phase}"]).stdout == "Running"
            }
        }

        @Test func kjQueriesThroughTheServerAnswerAsTheJournalDoes() throws {
            let cluster = try ServedCluster()
            try runningPod(cluster, "web")
            let head = try #require(try JSONSerialization.jsonObject(with: Data(try cluster.kj(["journal", "stat", "-o", "json"]).stdout.utf8)) as? [String: Any])
            let at = String(try #require(head["headRevision"] as? Int))
            let remote = ["--server", cluster.url, "--kubeconfig", cluster.kubeconfig]
            for command in [["why", "pod/web", "--at", at, "--full"], ["history", "pod/web", "--at", at], ["diff", "5", at],
                            ["events", "--to", at, "--kind", "pod"], ["get", "pods", "--at", at]] {
                let local = try cluster.kj(command + ["-o", "json"])
                let served = try runKJ(command + ["-o", "json"] + remote)
                #expect(local.status == 0 && served.status == 0, "\(command): \(local.stderr) \(served.stderr)")
                #expect(served.stdout == local.stdout, "kj \(command.joined(separator: " ")) --server differs from reading the journal")
            }
            let table = try runKJ(["why", "pod/web"] + remote)
            #expect(table.stdout.contains("user/admin") && table.stdout.contains("bound at revision"))
            let missing = try runKJ(["why", "pod/nope"] + remote)
            #expect(missing.status != 0 && missing.stderr.contains("pod default/nope not found in the journal"), "\(missing.stderr)")
            let noToken = try runKJ(["why", "pod/web", "--server", cluster.url, "--kubeconfig", "/dev/null"])
            #expect(noToken.status != 0)
        }

        @Test func followingEventsThroughTheServerStreamsNewOnes() throws {
            let cluster = try ServedCluster()
            let follower = Process()
            follower.executableURL = URL(fileURLWithPath: kjExecutable)
            follower.arguments = ["events", "--follow", "--kind", "pod", "-o", "json", "--server", cluster.url, "--kubeconfig", cluster.kubeconfig]
            let out = ChildProcesses.pipe()
            follower.standardOutput = out
            try ChildProcesses.start(follower)
            defer { if follower.isRunning { follower.terminate() } }
            try cluster.waitForWatchers(1)
            #expect(try cluster.kubectl(["run", "late", "--image=nginx"]).status == 0)
            let line = try #require(readLine(from: out.fileHandleForReading, of: follower, containing: "\"Pod/default/late\"", within: 30))
            #expect(line.contains("\"actor\":\"user/admin\""), "\(line)")
        }

        @Test func metricsCountRequestsCommitsWatchersAndSchedulingAttempts() throws {
            let cluster = try ServedCluster()
            try runningPod(cluster, "m")
            let metrics = try cluster.curl("GET", "/metrics", token: cluster.adminToken)
            #expect(metrics.code == 200)
            for needle in [#"apiserver_request_total{verb="create",resource="pods",code="201"} 1"#, "apiserver_request_duration_seconds_bucket",
                           #"scheduler_schedule_attempts_total{result="scheduled"} 1"#, "kubejournal_journal_head_revision",
                           "kubejournal_journal_commit_batch_events_count", "kubejournal_watchers"] {
                #expect(metrics.body.contains(needle), "/metrics should have \(needle)")
            }
            #expect(try cluster.curl("GET", "/metrics", token: nil).code == 401)
        }

        @Test func patchesOfEveryTypeChunkedListsAndWatchesFromThePast() throws {
            let cluster = try ServedCluster()
            try runningPod(cluster, "p")
            for (type, patch, label) in [("json", #"[{"op":"add","path":"/metadata/labels/a","value":"1"}]"#, "a"),
                                         ("merge", #"{"metadata":{"labels":{"b":"2"}}}"#, "b"),
                                         ("strategic", #"{"metadata":{"labels":{"c":"3"}}}"#, "c")] {
                let r = try cluster.kubectl(["patch", "pod", "p", "--type=\(type)", "-p", patch])
                #expect(r.status == 0, "\(type): \(r.stderr)")
                #expect(try cluster.kubectl(["get", "pod", "p", "-o", "jsonpath={.metadata.labels.\(label)}"]).stdout != "", "\(type) patch applied")
            }
            // The create's answer carries its revision.
            let q = try cluster.kubectl(["run", "q", "--image=nginx", "-o", "jsonpath={.metadata.resourceVersion}"])
            let created = try #require(Int(q.stdout), "\(q.stdout)\(q.stderr)")
            #expect(try cluster.kubectl(["run", "r", "--image=nginx"]).status == 0)
            let chunked = try cluster.kubectl(["get", "pods", "--chunk-size=1", "-o", "name"])
            #expect(chunked.stdout.split(separator: "\n") == ["pod/p", "pod/q", "pod/r"], "\(chunked.stdout)\(chunked.stderr)")

            let watch = try cluster.kubectl(["get", "--raw", "/api/v1/namespaces/default/pods?watch=1&resourceVersion=\(created - 1)&timeoutSeconds=2"])
            #expect(watch.status == 0, "\(watch.stderr)")
            let events = watch.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let first = try #require(events.first)
            #expect(first["type"] as? String == "ADDED")
            #expect(((first["object"] as? [String: Any])?["metadata"] as? [String: Any])?["name"] as? String == "q")
            let revisions = events.compactMap { ((($0["object"] as? [String: Any])?["metadata"] as? [String: Any])?["resourceVersion"] as? String).flatMap { Int($0) } }
            #expect(revisions == revisions.sorted() && revisions.first == created)

            let exact = try cluster.kubectl(["get", "--raw", "/api/v1/namespaces/default/pods?resourceVersion=\(created - 1)&resourceVersionMatch=Exact"])
            let past = try #require(try JSONSerialization.jsonObject(with: Data(exact.stdout.utf8)) as? [String: Any])
            #expect((past["items"] as? [[String: Any]])?.count == 1, "only p existed before q: \(exact.stdout.prefix(300))")
        }

        @Test func sigtermEndsWatchesAndKeepsEveryAcknowledgedWrite() throws {
            let cluster = try ServedCluster()
            let watcher = Process()
            watcher.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            watcher.arguments = ["kubectl", "get", "pods", "--watch", "--kubeconfig", cluster.kubeconfig]
            watcher.standardOutput = FileHandle.nullDevice
            watcher.standardError = FileHandle.nullDevice
            try ChildProcesses.start(watcher)
            try cluster.waitForWatchers(1)
            #expect(try cluster.kubectl(["run", "last", "--image=nginx"]).status == 0)
            let started = Date()
            #expect(cluster.stop() == 0, "kj serve exits 0 on SIGTERM")
            #expect(Date().timeIntervalSince(started) < 15, "and promptly, although a watch was open")
            watcher.waitUntilExit()
            let history = try cluster.kj(["history", "pod/last"])
            #expect(history.stdout.contains("user/admin") && history.stdout.contains("pod last created"))
            #expect(try cluster.kj(["journal", "verify"]).status == 0)
        }

        @Test func nodesFromAScenarioAndTheKubeconfigCommand() throws {
            let cluster = try ServedCluster(cluster: packageRoot + "/replay/unschedulable.yaml")
            let nodes = try cluster.kubectl(["get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.taints[0].key} {end}"])
            #expect(nodes.stdout == "node-1= node-2= node-3=dedicated ", "\(nodes.stdout)\(nodes.stderr)")
            let printed = try cluster.kj(["kubeconfig"])
            #expect(printed.stdout == (try String(contentsOfFile: cluster.kubeconfig, encoding: .utf8)))
            #expect(printed.stdout.contains("server: \(cluster.url)") && printed.stdout.contains("certificate-authority-data:"))
            #expect(try cluster.kj(["kubeconfig", "--path"]).stdout == cluster.kubeconfig + "\n")
        }
    }
}
