import AuditLog
import ClusterModel
import ControlPlane
import Foundation
import Journal
import Testing
import TestSupport

/// `kj import audit` on real audit logs written by real kube-apiservers (`fixtures/audit`,
/// copied with their SOURCES.md from the projects that published them).
@Suite struct AuditImportTests {
    static let fixtures = packageRoot + "/Tests/AuditLogTests/fixtures/audit"

    static func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: fixtures).filter { $0 != "SOURCES.md" }.sorted().map { fixtures + "/" + $0 }
    }

    @Test func everyFileImportsAndItsRefusedRequestsAreCounted() throws {
        let dir = TemporaryDirectory()
        for (i, file) in try Self.files().enumerated() {
            let r = try runKJ(["import", "audit", file, "--journal", dir.sub("j\(i)")])
            #expect(r.status == 0, "\(file): \(r.stderr)")
            let name = (file as NSString).lastPathComponent
            // audit2rbac's demo: users listing what RBAC denies them, both as v1 and as v1beta1.
            if name.hasPrefix("liggitt-audit2rbac") {
                #expect(r.stdout.contains("0 write(s) journalled (0 with only part of the object), 11 refused request(s)"), "\(name): \(r.stdout)")
            }
        }
        let all = try runKJ(["import", "audit"] + Self.files() + ["--journal", dir.sub("all")])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.hasPrefix("127 audit event(s) from 50 file(s)"), "\(all.stdout)")
        #expect(all.stdout.contains("48 write(s) journalled (21 with only part of the object), 11 refused request(s)"), "\(all.stdout)")
        // The two audit2rbac files are one log: its 37 requests fold into one event each.
        #expect(all.stdout.contains("39 further stage(s) of a request folded"), "\(all.stdout)")
        let refused = try runKJ(["events", "--type", "RequestRefused", "--journal", dir.sub("all")])
        #expect(refused.stdout.contains(#"list pods refused (403 Forbidden): pods is forbidden: User "bob" cannot list pods in the namespace "default""#), "\(refused.stdout)")
    }

    @Test func historyNamesTheClustersComponentsAndGetAtShowsWhatExisted() throws {
        let dir = TemporaryDirectory()
        let journal = dir.sub("j")
        #expect(try runKJ(["import", "audit"] + Self.files() + ["--journal", journal]).status == 0)
        // A pod the ReplicaSet controller created (falco's minikube capture, RequestResponse).
        let pod = try runKJ(["history", "pod/nginx-deployment-5cdcc99dbf-rgw6z", "--journal", journal])
        #expect(pod.stdout.contains("uid 8c845395-d85f-11e8-88b6-080027728ac4"), "\(pod.stdout)")
        #expect(pod.stdout.contains("from 2018-10-25T14:09:12.581541Z"), "\(pod.stdout)")
        #expect(pod.stdout.contains("controller/replicaset   Created"), "\(pod.stdout)")
        // The log holds no binding of it: why says so, rather than that no scheduler tried.
        let why = try runKJ(["why", "pod/nginx-deployment-5cdcc99dbf-rgw6z", "--journal", journal])
        #expect(why.stdout.contains("the audit.k8s.io log holds no binding of it"), "\(why.stdout)")
        // KHI's lease renewal by the scheduler, and AKS's ControllerRevision by the DaemonSet controller.
        let lease = try runKJ(["history", "lease/kube-scheduler", "-n", "kube-system", "--journal", journal])
        #expect(lease.stdout.contains("scheduler/default-scheduler   Updated"), "\(lease.stdout)")
        let events = try runKJ(["events", "--journal", journal])
        #expect(events.stdout.contains("controller/daemonset"), "\(events.stdout)")
        #expect(events.stdout.contains("cluster initialised (seed"), "\(events.stdout)")
        #expect(events.stdout.contains("made from the audit.k8s.io log"))
        // A namespace created, deleted and created again: at each point, what existed then.
        let created = try #require(Self.revision(of: "namespace foo created", in: events.stdout))
        let removed = try #require(Self.revision(of: "namespace foo removed", in: events.stdout))
        #expect(try runKJ(["get", "namespaces", "--at", String(created), "--journal", journal]).stdout.contains("foo "))
        #expect(!(try runKJ(["get", "namespaces", "--at", String(removed), "--journal", journal]).stdout.contains("foo ")))
        // A Deployment known only from its request (level Request) says so.
        let deployment = try runKJ(["get", "deployments", "-o", "yaml", "--at", String(removed + 1), "--journal", journal])
        #expect(deployment.stdout.contains("audit.kubejournal.io/content: request"), "\(deployment.stdout)")
    }

    static func revision(of summary: String, in table: String) -> Int? {
        table.split(separator: "\n").first { $0.contains(summary) }.flatMap { Int($0.split(separator: " ").first ?? "") }
    }

    @Test func importingTheSameLogAgainAddsNothingAndOnlyImportedJournalsTakeMore() throws {
        let dir = TemporaryDirectory()
        let journal = dir.sub("j")
        let file = Self.fixtures + "/falcosecurity-falco-create_configmap_sensitive_values.json"
        #expect(try runKJ(["import", "audit", file, "--journal", journal]).status == 0)
        func head() throws -> [Substring] { try runKJ(["journal", "stat", "--journal", journal]).stdout.split(separator: "\n").filter { $0.hasPrefix("Head") } }
        let before = try head()
        let again = try runKJ(["import", "audit", file, "--journal", journal])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("6 request(s) already in the journal, 0 older than its last event: skipped"), "\(again.stdout)")
        #expect(try head() == before && before.count == 2, "\(before)")
        // A later log adds what is newer.
        let later = try runKJ(["import", "audit", Self.fixtures + "/falcosecurity-falco-delete_configmap.json", "--journal", journal])
        #expect(later.stdout.contains("1 write(s) journalled"), "\(later.stdout)")
        // A journal of this control plane's own is not an audit import's to extend.
        let own = dir.sub("own")
        #expect(try runKJ(["simulate", packageRoot + "/replay/pod-create.yaml", "--journal", own, "--quiet"]).status == 0)
        let refused = try runKJ(["import", "audit", file, "--journal", own])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("was not imported from audit logs"), "\(refused.stderr)")
    }

    @Test func compressedLogsReadLikePlainOnesAndDamageIsReportedByFileAndLine() throws {
        let dir = TemporaryDirectory()
        let plain = Self.fixtures + "/falcosecurity-falco-create_configmap_sensitive_values.json"
        let gzipped = dir.sub("log.json.gz")
        try run("/bin/sh", ["-c", "gzip -c '\(plain)' > '\(gzipped)'"])
        let fromGzip = try runKJ(["import", "audit", gzipped, "--journal", dir.sub("gz")])
        #expect(fromGzip.status == 0, "\(fromGzip.stderr)")
        #expect(fromGzip.stdout.contains("6 write(s) journalled"), "\(fromGzip.stdout)")

        let lines = try String(contentsOfFile: plain, encoding: .utf8).split(separator: "\n").map(String.init)
        let cases: [(name: String, text: String, error: String)] = [
            ("truncated.json", lines[0] + "\n" + lines[1].prefix(200) + "\n" + lines[2] + "\n", "truncated.json, line 2: not JSON"),
            ("garbage.json", lines[0] + "\n" + "this is not an audit event\n" + lines[2] + "\n", "garbage.json, line 2: not JSON"),
            ("version.json", lines[0] + "\n" + lines[1].replacingOccurrences(of: #"{"annotations""#, with: #"{"apiVersion":"audit.k8s.io/v2","annotations""#) + "\n",
             #"version.json, line 2: unknown apiVersion "audit.k8s.io/v2""#),
        ]
        for c in cases {
            let file = dir.sub(c.name)
            try c.text.write(toFile: file, atomically: true, encoding: .utf8)
            let target = dir.sub("bad-" + c.name)
            let r = try runKJ(["import", "audit", plain, file, "--journal", target])
            #expect(r.status != 0, "\(c.name)")
            #expect(r.stderr.contains(c.error), "\(c.name): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: target), "nothing half-imported: \(c.name)")
        }
        // A request logged only as received: its outcome is unknown, so it writes nothing.
        let received = dir.sub("received.json")
        try lines[0].replacingOccurrences(of: #""stage":"ResponseComplete""#, with: #""stage":"RequestReceived""#).write(toFile: received, atomically: true, encoding: .utf8)
        let unknown = try runKJ(["import", "audit", received, "--journal", dir.sub("received")])
        #expect(unknown.stdout.contains("0 write(s) journalled") && unknown.stdout.contains("1 request(s) logged only as received"), "\(unknown.stdout)")
        // A gzip stream cut short.
        let whole = try Data(contentsOf: URL(fileURLWithPath: gzipped))
        let cut = dir.sub("cut.json.gz")
        try whole.prefix(whole.count - 20).write(to: URL(fileURLWithPath: cut))
        let r = try runKJ(["import", "audit", cut, "--journal", dir.sub("bad-gz")])
        #expect(r.status != 0)
        #expect(r.stderr.contains("cut.json.gz: the gzip stream is truncated"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.sub("bad-gz")))
    }

    func run(_ executable: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        try ChildProcesses.start(p)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}

/// `kj journal export --format audit`: a journal's writes as kube-apiserver's audit log.
@Suite struct AuditExportTests {
    /// A simulated node failure exported as an audit log and imported again: at every sampled
    /// moment, every kind's objects are the same, and each write is by the same actor.
    @Test func aJournalExportedAsAnAuditLogImportsToTheSameStateAtEveryMoment() throws {
        let dir = TemporaryDirectory()
        let original = dir.sub("original"), imported = dir.sub("imported"), log = dir.sub("audit.log")
        #expect(try runKJ(["simulate", packageRoot + "/replay/node-failure.yaml", "--journal", original, "--quiet"]).status == 0)
        let exported = try runKJ(["journal", "export", "--format", "audit", "--journal", original, "-f", log])
        #expect(exported.status == 0, "\(exported.stderr)")
        let read = try runKJ(["import", "audit", log, "--journal", imported])
        #expect(read.status == 0, "\(read.stderr)")
        let writes = try runKJ(["events", "--journal", original, "-o", "json"]).stdout
        let events = try #require(try JSONSerialization.jsonObject(with: Data(writes.utf8)) as? [[String: Any]])
        // A binding's response is a Status, as kube-apiserver's is: the bound pod is its last state
        // with the binding's node, and says so; every other write is whole.
        let bindings = events.filter { $0["type"] as? String == "Bound" }.count
        #expect(read.stdout.contains("(\(bindings) with only part of the object), 0 refused request(s)"), "\(read.stdout)")

        // Every write's time, sampled, and the head.
        let times = Array(Set(events.filter { ["Created", "Updated", "StatusUpdated", "Bound", "DeletionStarted", "Deleted"].contains($0["type"] as? String) }
            .compactMap { $0["time"] as? String })).sorted()
        #expect(times.count > 20)
        let sample = stride(from: 0, to: times.count, by: max(1, times.count / 25)).map { times[$0] } + [times.last!]
        for time in sample {
            for kind in ["pods", "nodes", "deployments", "replicasets", "endpoints", "leases", "events"] {
                let a = try Self.objects(kind, at: time, in: original), b = try Self.objects(kind, at: time, in: imported)
                #expect(a == b, "\(kind) at \(time) differ")
            }
        }
        // The components' writes keep their actors.
        let history = try runKJ(["history", "pod/web-vl6wpk9zjd-h2gtl", "--journal", imported]).stdout
        for actor in ["controller/replicaset", "scheduler/default-scheduler", "kubelet/node-2", "controller/node-lifecycle"] {
            #expect(history.contains(actor), "\(actor): \(history)")
        }
        // Why: the binding from the log, then our scheduler's recomputation on the rebuilt state.
        let why = try runKJ(["why", "pod/web-vl6wpk9zjd-h2gtl", "--journal", imported]).stdout
        #expect(why.contains("Recomputed, not recorded: KubeJournal's scheduler (kube-scheduler's default profile) on the state the audit.k8s.io log rebuilds just before the binding agrees — the cluster bound node-2, the recomputation picks node-2."), "\(why)")
        let tie = try runKJ(["why", "pod/web-vl6wpk9zjd-d72db", "--journal", imported]).stdout
        #expect(tie.contains("request "), "the binding's request: \(tie)")
        #expect(tie.contains("Recomputed, not recorded:"), "\(tie)")
        // The same journal exports the same log.
        #expect(try runKJ(["journal", "export", "--format", "audit", "--journal", original]).stdout == (try String(contentsOfFile: log, encoding: .utf8)))
    }

    /// `kj get KIND -A -o json --at TIME`, without what depends on the journal's revisions.
    static func objects(_ kind: String, at time: String, in journal: String) throws -> String {
        let r = try runKJ(["get", kind, "-A", "-o", "json", "--at", time, "--journal", journal])
        guard r.status == 0 else { return "error: \(r.stderr)" }
        var list = try JSONValue.parse(r.stdout)
        list = Self.withoutResourceVersions(list)
        return String(decoding: list.serialized(), as: UTF8.self)
    }

    static func withoutResourceVersions(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(var o):
            o["resourceVersion"] = nil
            return .object(o.mapValues(withoutResourceVersions))
        case .array(let a): return .array(a.map(withoutResourceVersions))
        default: return v
        }
    }
}

/// `kj bench import`, in a run small enough for the tests.
@Suite struct ImportBenchTests {
    @Test func aTinyRunReportsEveryFigure() throws {
        let r = try runKJ(["bench", "import", "--json", "--events", "500", "--runs", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let figures = try JSONDecoder().decode([String: Double].self, from: Data(r.stdout.utf8))
        for key in ["import_audit_events_per_s", "parse_events_per_s", "ratio_import_to_parse", "journal_bytes_per_1000_events", "log_bytes_per_event"] {
            #expect((figures[key] ?? 0) > 0, "\(key) missing: \(figures)")
        }
    }
}

/// Who a Kubernetes user is, as an actor.
@Suite struct AuditActorTests {
    @Test func theClustersComponentsAreRecognisedByTheirUsernames() {
        #expect(AuditImport.actor("system:kube-scheduler") == Actor(kind: "scheduler", name: "default-scheduler"))
        #expect(AuditImport.actor("system:serviceaccount:kube-system:replicaset-controller") == Actor(kind: "controller", name: "replicaset"))
        #expect(AuditImport.actor("system:serviceaccount:kube-system:generic-garbage-collector") == Actor(kind: "controller", name: "garbage-collector"))
        #expect(AuditImport.actor("system:serviceaccount:kube-system:daemon-set-controller") == Actor(kind: "controller", name: "daemonset"))
        #expect(AuditImport.actor("system:node:minikube") == Actor(kind: "kubelet", name: "minikube"))
        #expect(AuditImport.actor("system:serviceaccount:ns1:sa1") == .user("system:serviceaccount:ns1:sa1"))
        #expect(AuditImport.actor("alice") == .user("alice"))
        #expect(AuditImport.actor("") == AuditImport.unauthenticated)
    }

    static func configMapCreate(_ id: String, _ name: String, at second: Int, stage: String = "ResponseComplete") -> String {
        #"{"apiVersion":"audit.k8s.io/v1","kind":"Event","level":"Metadata","auditID":"\#(id)","stage":"\#(stage)","requestURI":"/api/v1/namespaces/default/configmaps","verb":"create","user":{"username":"alice"},"objectRef":{"resource":"configmaps","namespace":"default","name":"\#(name)","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"stageTimestamp":"2026-03-01T10:00:\#(String(format: "%02d", second)).000000Z"}"#
    }

    /// Lines out of time order are put in order within the window; a request further out is
    /// journalled late and counted; a request's response folds into its receipt even when the
    /// receipt has left the window.
    @Test func aBoundedWindowOrdersWhatItHoldsAndCountsWhatCameLate() throws {
        let lines = [
            Self.configMapCreate("r1", "a", at: 1, stage: "RequestReceived"),
            Self.configMapCreate("r2", "b", at: 3), Self.configMapCreate("r3", "c", at: 2),  // swapped: within the window
            Self.configMapCreate("r4", "d", at: 5), Self.configMapCreate("r5", "e", at: 6),
            Self.configMapCreate("r1", "a", at: 7),  // r1's response, long after its receipt
            Self.configMapCreate("r6", "f", at: 4),  // three requests later than its time: beyond a window of 2
        ]
        let file = AuditLogFile(name: "w.log", bytes: Array(lines.joined(separator: "\n").utf8))
        var importer = try AuditImport(after: nil, window: 2)
        try importer.read(file)
        importer.finish()
        #expect(importer.takeDrafts().map(\.object.name) == ["c", "b", "d", "f", "e", "a"], "f, read after e was waiting, is taken before it, but after d")
        #expect(importer.summary.late == 1 && importer.summary.foldedStages == 1 && importer.summary.unfinished == 0)
        // The whole log at once (the default window): in time order, nothing late.
        let whole = try AuditImport([file], after: nil)
        #expect(whole.drafts.map(\.object.name) == ["c", "b", "f", "d", "e", "a"] && whole.summary.late == 0)
    }

    /// `kubectl --as=bob` by alice: the write is bob's, and the object says alice sent it; a
    /// request that failed authentication (no user) is refused by no one known.
    @Test func anImpersonatedWriteNamesItsSenderAndAFailedAuthenticationNoUser() throws {
        let create = #"{"apiVersion":"audit.k8s.io/v1","kind":"Event","level":"RequestResponse","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/configmaps","verb":"create","user":{"username":"alice"},"impersonatedUser":{"username":"bob"},"objectRef":{"resource":"configmaps","namespace":"default","name":"cfg","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"responseObject":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cfg","namespace":"default","uid":"u1"}},"stageTimestamp":"2026-03-01T10:00:00.000000Z"}"#
        let update = #"{"apiVersion":"audit.k8s.io/v1","kind":"Event","level":"RequestResponse","auditID":"a2","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/configmaps/cfg","verb":"update","user":{"username":"alice"},"objectRef":{"resource":"configmaps","namespace":"default","name":"cfg","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"responseObject":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cfg","namespace":"default","uid":"u1"},"data":{"a":"b"}},"stageTimestamp":"2026-03-01T10:00:01.000000Z"}"#
        let failed = #"{"apiVersion":"audit.k8s.io/v1","kind":"Event","level":"Metadata","auditID":"a3","stage":"ResponseStarted","requestURI":"/api/v1/secrets","verb":"list","user":{},"objectRef":{"resource":"secrets","apiVersion":"v1"},"responseStatus":{"metadata":{},"message":"Authentication failed, attempted: bearer","code":401},"stageTimestamp":"2026-03-01T10:00:02.000000Z"}"#
        let file = AuditLogFile(name: "t.log", bytes: Array([create, update, failed].joined(separator: "\n").utf8))
        let imported = try AuditImport([file], after: nil)
        let drafts = imported.drafts
        #expect(drafts.map(\.actor) == [.user("bob"), .user("alice"), AuditImport.unauthenticated])
        let annotations = try drafts.prefix(2).map { try JSONValue.parse($0.data)["metadata"]?["annotations"]?[AuditImport.impersonatorAnnotation] }
        #expect(annotations == [.string("alice"), nil], "the sender is kept with the impersonated write, and not carried into the next")
        #expect(drafts.last?.type == "RequestRefused" && imported.summary.refused == 1)
        #expect(try JSONValue.parse(drafts[2].data)["message"] == "Authentication failed, attempted: bearer")
    }
}
