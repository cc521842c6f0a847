import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// `kj serve` stays up under what crashed it before: ordinary use (force-deleting pods while they
    /// are scheduled), single requests with enormous numbers, and "poison" objects that the journal
    /// accepted and every restart folds again. And it stops promptly whatever work is queued.
    @Suite struct KeepRunningTests {
        /// `count` plain pods as a multi-document YAML file, for `kubectl create -f`.
        static func podDocuments(_ count: Int, prefix: String) -> String {
            (0..<count).map { i in
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \(prefix)-\(i)\n  labels: {app: \(prefix)}\nspec:\n  containers: [{name: c, image: nginx}]\n"
            }.joined(separator: "---\n")
        }

        func expectServing(_ cluster: ServedCluster, _ what: String) throws {
            #expect(cluster.process.isRunning, "kj serve is gone after \(what)")
            let ready = try cluster.kubectl(["get", "--raw", "/readyz"])
            #expect(ready.status == 0 && ready.stdout == "ok", "after \(what): \(ready.stderr)")
        }

        /// The crash of issue 10: 4 times out of 4 within 5 s with 100 pods.
        @Test(.timeLimit(.minutes(15)))
        func forceDeletingPodsWhileTheyAreScheduledKeepsTheServerUp() throws {
            let cluster = try ServedCluster()
            let file = cluster.directory.sub("pods.yaml")
            for round in 0..<5 {
                try Self.podDocuments(1000, prefix: "r\(round)").write(toFile: file, atomically: true, encoding: .utf8)
                let created = try cluster.kubectl(["create", "-f", file])
                #expect(created.status == 0, "round \(round): \(created.stderr.prefix(300))")
                let deleted = try cluster.kubectl(["delete", "pods", "--all", "--grace-period=0", "--force", "--wait=false"])
                #expect(deleted.status == 0, "round \(round): \(deleted.stderr.prefix(300))")
                try expectServing(cluster, "round \(round)")
            }
            _ = try cluster.eventually(120, "every pod gone") {
                try cluster.kubectl(["get", "pods", "-o", "name"]).stdout.isEmpty
            }
            try expectServing(cluster, "the last round")
            #expect(cluster.stop() == 0)
            #expect(try cluster.kj(["journal", "verify"]).status == 0)
        }

        /// Each of these requests crashed the server (quantity decoding, grace-period arithmetic).
        @Test(.timeLimit(.minutes(5)))
        func requestsWithEnormousNumbersAreAnswered() throws {
            let cluster = try ServedCluster()
            let pods = [
                ("json-int-cpu", #""resources":{"requests":{"cpu":9223372036854775807}}"#, ""),
                ("json-double-cpu", #""resources":{"requests":{"cpu":1e308}}"#, ""),
                ("huge-grace", "", #","terminationGracePeriodSeconds":9223372036854775807"#),
            ]
            for (name, resources, spec) in pods {
                let body = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)"},"spec":{"containers":[{"name":"c","image":"nginx"\#(resources.isEmpty ? "" : "," + resources)}]\#(spec)}}"#
                let (code, text) = try cluster.curl("POST", "/api/v1/namespaces/default/pods", token: cluster.adminToken, body: body)
                #expect(code == 201, "\(name): \(code) \(text.prefix(300))")
                try expectServing(cluster, "creating \(name)")
            }
            // The capped request reads back as apimachinery prints its cap.
            let cpu = try cluster.kubectl(["get", "pod", "json-double-cpu", "-o", "jsonpath={.spec.containers[0].resources.requests.cpu}"])
            #expect(cpu.stdout == "9223372036854775807")
            _ = try cluster.eventually(60, "huge-grace running") {
                try cluster.kubectl(["get", "pod", "huge-grace", "-o", "jsonpath={.status.phase}"]).stdout == "Running"
            }
            // Its deletion deadline is past year 9999: written as metav1.Time's last second.
            #expect(try cluster.kubectl(["delete", "pod", "huge-grace", "--wait=false"]).status == 0)
            let deadline = try cluster.kubectl(["get", "pod", "huge-grace", "-o", "jsonpath={.metadata.deletionTimestamp}"])
            #expect(deadline.stdout == "9999-12-31T23:59:59Z", "\(deadline.stderr)")
            try expectServing(cluster, "deleting huge-grace")
            #expect(cluster.stop() == 0)
        }

        /// Objects the server accepted (201) and then crashed on at every start, in the scheduler's
        /// sums. Now the server stays up, and a restart folds them again.
        @Test(.timeLimit(.minutes(5)))
        func poisonObjectsFoldAgainAfterARestart() throws {
            let cluster = try ServedCluster(nodes: 1)
            let poison = [
                #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"huge-memory"},"spec":{"containers":[{"name":"c","image":"nginx","resources":{"requests":{"memory":"9223372036854775"}}}]}}"#,
                #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"two-huge-cpus"},"spec":{"containers":[{"name":"a","image":"nginx","resources":{"requests":{"cpu":"5000000000000000"}}},{"name":"b","image":"nginx","resources":{"requests":{"cpu":"5000000000000000"}}}]}}"#,
                #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bound-a"},"spec":{"nodeName":"node-1","containers":[{"name":"c","image":"nginx","resources":{"requests":{"cpu":"5000000000000000"}}}]}}"#,
                #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bound-b"},"spec":{"nodeName":"node-1","containers":[{"name":"c","image":"nginx","resources":{"requests":{"cpu":"5000000000000000"}}}]}}"#,
            ]
            for body in poison {
                let (code, text) = try cluster.curl("POST", "/api/v1/namespaces/default/pods", token: cluster.adminToken, body: body)
                #expect(code == 201, "\(code) \(text.prefix(300))")
            }
            let node = #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"huge-node"},"status":{"capacity":{"pods":"9223372036854775","cpu":"1e308","memory":"8Ei"},"allocatable":{"pods":"9223372036854775","cpu":"1e308","memory":"8Ei"}}}"#
            let (code, text) = try cluster.curl("POST", "/api/v1/nodes", token: cluster.adminToken, body: node)
            #expect(code == 201, "\(code) \(text.prefix(300))")
            // The scheduler decides about each (bound to the enormous node, or unschedulable).
            func decided(_ c: ServedCluster, _ pod: String) throws -> Bool {
                try !c.kubectl(["get", "pod", pod, "-o", #"jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}"#]).stdout.isEmpty
            }
            for pod in ["huge-memory", "two-huge-cpus"] { _ = try cluster.eventually(60, "a scheduling decision about \(pod)") { try decided(cluster, pod) } }
            try expectServing(cluster, "the poison objects")
            #expect(cluster.stop() == 0)

            let restarted = try ServedCluster(nodes: 1, after: cluster)
            try expectServing(restarted, "a restart")
            let pods = try restarted.kubectl(["get", "pods", "-o", "name"])
            for name in ["huge-memory", "two-huge-cpus", "bound-a", "bound-b"] { #expect(pods.stdout.contains("pod/\(name)"), "\(pods.stdout)") }
            // Its scheduler starts with them in its queue again.
            let decisions = try restarted.kj(["events", "--type", "SchedulingDecided", "-o", "json"]).stdout.split(separator: "\n").count
            _ = try restarted.eventually(60, "the restarted scheduler deciding again") {
                try restarted.kj(["events", "--type", "SchedulingDecided", "-o", "json"]).stdout.split(separator: "\n").count > decisions
            }
            #expect(restarted.stop() == 0)
            #expect(try restarted.kj(["journal", "verify"]).status == 0)
        }

        /// With 30,000 pods wanted and none able to run (the ReplicaSet controller creating them, the
        /// scheduler finding no node for each), SIGTERM stops everything within 5 s: the controllers
        /// and the scheduler check for cancellation between writes. The last write is durable.
        @Test(.timeLimit(.minutes(10)))
        func sigtermWithThirtyThousandPendingPodsExitsWithinFiveSeconds() throws {
            let cluster = try ServedCluster()
            let deployment = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: backlog}
                spec:
                  replicas: 30000
                  selector: {matchLabels: {app: backlog}}
                  template:
                    metadata: {labels: {app: backlog}}
                    spec:
                      nodeSelector: {disk: none}
                      containers: [{name: c, image: nginx}]
                """
            let file = cluster.directory.sub("backlog.yaml")
            try deployment.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try cluster.kubectl(["create", "-f", file]).status == 0)
            // Wait until the components are deep in their backlog: a few thousand writes.
            func head() throws -> Int {
                let stat = try cluster.kj(["journal", "stat", "-o", "json"])
                return (try JSONSerialization.jsonObject(with: Data(stat.stdout.utf8)) as? [String: Any])?["headRevision"] as? Int ?? 0
            }
            _ = try cluster.eventually(120, "a backlog of writes") { try head() > 3000 }
            #expect(cluster.process.isRunning)
            let stopping = Date()
            let status = cluster.stop()
            let seconds = Date().timeIntervalSince(stopping)
            #expect(seconds <= 5, "kj serve took \(seconds) s to stop")
            #expect(status == 0)
            let verify = try cluster.kj(["journal", "verify"])
            #expect(verify.status == 0, "\(verify.stderr)")
            let pods = try cluster.kj(["get", "pods", "-o", "name"]).stdout.split(separator: "\n").count
            #expect(pods > 0 && pods < 30_000, "\(pods) pods were created before the stop")
        }
    }
}

extension Acceptance {
    /// A journal whose hash chain does not verify is refused by `kj serve`, unless a user takes
    /// responsibility with `--allow-broken-chain` — which is itself recorded in the journal.
    @Suite struct BrokenChainServeTests {
        @Test(.timeLimit(.minutes(5)))
        func serveRefusesATamperedJournalUnlessToldAndRecordsIt() throws {
            let cluster = try ServedCluster(nodes: 1)
            #expect(try cluster.kubectl(["run", "tamper-me", "--image=nginx"]).status == 0)
            #expect(cluster.stop() == 0)
            // Change one byte of the pod's stored name, as an attacker editing data.mdb would: in every
            // copy, since LMDB keeps earlier copies of pages that are no longer read.
            let file = cluster.journal + "/data.mdb"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            let needle = Data("\"name\":\"tamper-me\"".utf8)
            var from = bytes.startIndex, changed = 0
            while let range = bytes.range(of: needle, in: from..<bytes.endIndex) {
                bytes[range.upperBound - 2] = UInt8(ascii: "f")
                from = range.upperBound
                changed += 1
            }
            try #require(changed > 0)
            try bytes.write(to: URL(fileURLWithPath: file))

            let refused = try runKJ(["serve", "--journal", cluster.journal, "--listen", "127.0.0.1:0", "--log-level", "warning"])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("fails verification at revision"), "\(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")

            let accepted = try ServedCluster(nodes: 1, options: ["--allow-broken-chain"], after: cluster)
            #expect(try accepted.kubectl(["get", "pods"]).status == 0)
            #expect(accepted.stop() == 0)
            let recorded = try accepted.kj(["events", "--type", "ChainBreakAccepted"])
            #expect(recorded.status == 0 && recorded.stdout.contains("ChainBreakAccepted"), "\(recorded.stdout) \(recorded.stderr)")
            #expect(recorded.stdout.contains("user/"), "\(recorded.stdout)")
        }
    }
}

extension Acceptance {
    /// A full disk is etcd's NOSPACE alarm: writes refused with a clear Status, a metric and a log
    /// line; reads and watches go on; writes resume by themselves when space returns; nothing lost.
    @Suite(.serialized, .enabled(if: SmallDisk.permitted, "mounting a tmpfs is not permitted here: the disk-full test needs root"))
    struct ServeDiskFullTests {
        @Test(.timeLimit(.minutes(5)))
        func aFullDiskRefusesWritesKeepsReadsAndRecovers() throws {
            let disk = try SmallDisk(megabytes: 48)
            let cluster = try ServedCluster(nodes: 1, journal: disk.path + "/journal")
            func create(_ name: String) throws -> (code: Int, body: String) {
                try cluster.curl("POST", "/api/v1/namespaces/default/pods", token: cluster.adminToken,
                                 body: #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","annotations":{"pad":"\#(String(repeating: "x", count: 2000))"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#)
            }
            func alarm() throws -> String {
                let (_, text) = try cluster.curl("GET", "/metrics", token: cluster.adminToken)
                return text.split(separator: "\n").first { $0.hasPrefix("kubejournal_journal_nospace_alarm") }.map(String.init) ?? ""
            }
            var acknowledged: [String] = []
            for i in 0..<5 {
                let (code, body) = try create("before-\(i)")
                #expect(code == 201, "\(body.prefix(300))")
                acknowledged.append("before-\(i)")
            }
            try disk.fill(leaving: 0)
            var refused: (code: Int, body: String)?
            for i in 0..<3000 {
                let answer = try create("filling-\(i)")
                if answer.code == 201 { acknowledged.append("filling-\(i)"); continue }
                refused = answer
                break
            }
            let refusal = try #require(refused, "the disk never filled")
            #expect(refusal.code == 507, "\(refusal.body.prefix(300))")
            #expect(refusal.body.contains("the journal has no space left: writes are refused until space is freed, reads go on"))
            let raised = try alarm()
            #expect(raised.hasSuffix(" 1.0"), "\(raised)")
            // Reads go on, and the server is up.
            let listed = try cluster.kubectl(["get", "pods", "-o", "name"])
            #expect(listed.status == 0)
            #expect(cluster.process.isRunning)
            // Space returns: writes resume by themselves.
            disk.emptyBallast()
            _ = try cluster.eventually(30, "a write accepted again") { try create("after").code == 201 }
            acknowledged.append("after")
            let cleared = try alarm()
            #expect(cleared.hasSuffix(" 0.0"), "\(cleared)")
            let names = try cluster.kubectl(["get", "pods", "-o", "name"]).stdout
            for name in acknowledged { #expect(names.contains("pod/\(name)\n"), "\(name) was acknowledged and is gone") }
            #expect(cluster.stop() == 0)
            #expect(try cluster.kj(["journal", "verify"]).status == 0)
        }
    }
}

extension Acceptance {
    /// `--max-size` is the journal's quota, as etcd's `--quota-backend-bytes`: reaching it refuses
    /// writes with 507 and the way out in the message; reads go on.
    @Suite struct JournalQuotaTests {
        @Test(.timeLimit(.minutes(10)))
        func aJournalAtItsMaximumSizeRefusesWritesAndSaysHowToRaiseIt() throws {
            let cluster = try ServedCluster(nodes: 1, options: ["--max-size", "2Mi"])
            var refusal: (code: Int, body: String)?
            for i in 0..<2000 {
                let answer = try cluster.curl("POST", "/api/v1/namespaces/default/pods", token: cluster.adminToken,
                                              body: #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p\#(i)","annotations":{"pad":"\#(String(repeating: "x", count: 4000))"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#)
                if answer.code != 201 { refusal = answer; break }
            }
            let refused = try #require(refusal, "the journal never reached its maximum size")
            #expect(refused.code == 507, "\(refused.body.prefix(300))")
            #expect(refused.body.contains("is full (map size 2 MiB reached); raise --max-size"), "\(refused.body.prefix(400))")
            #expect(try cluster.kubectl(["get", "pods", "-o", "name"]).status == 0)
            #expect(cluster.stop() == 0)
            #expect(try cluster.kj(["journal", "verify"]).status == 0)
        }
    }
}
