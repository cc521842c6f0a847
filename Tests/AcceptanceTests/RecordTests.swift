import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// `kj record` against a live `kj serve`: the recorded journal shows what the served one holds.
    @Suite struct RecordTests {
        /// A `kj record` process writing its output to a file.
        final class RecordProcess: @unchecked Sendable {
            let process = Process()
            let output: String

            init(kubeconfig: String, journal: String, output: String) throws {
                self.output = output
                FileManager.default.createFile(atPath: output, contents: nil)
                process.executableURL = URL(fileURLWithPath: kjExecutable)
                process.arguments = ["record", "--kubeconfig", kubeconfig, "--journal", journal, "--kinds", "pods,nodes,deployments,replicasets,leases"]
                process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
                process.standardError = FileHandle.standardError
                try ChildProcesses.start(process)
            }

            var text: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

            /// Stops it with SIGTERM; its exit status.
            func stop() -> Int32 {
                if process.isRunning {
                    process.terminate()
                    process.waitUntilExit()
                }
                return process.terminationStatus
            }

            deinit { _ = stop() }
        }

        static let serveOptions = ["--watch-window", "60", "--node-monitor-grace-period", "15s",
                                   "--default-unreachable-toleration-seconds", "2", "--default-not-ready-toleration-seconds", "2"]

        /// A rollout, a node crash, a server restart and a recorder restart whose watch has
        /// expired (410): at every settled moment the recording's pods are the server's pods.
        @Test(.timeLimit(.minutes(10)))
        func aRecordingMatchesTheServedJournalAcrossRestartsAndAnExpiredWatch() throws {
            let dir = TemporaryDirectory()
            let recorded = dir.sub("recorded")
            var cluster = try ServedCluster(nodes: 3, options: Self.serveOptions)
            let kubeconfig = cluster.kubeconfig
            var recorder = try RecordProcess(kubeconfig: kubeconfig, journal: recorded, output: dir.sub("record-1.out"))
            _ = try cluster.eventually(60, "5 kinds listed") { recorder.text.components(separatedBy: "(start)").count == 6 }
            var samples: [String] = []
            /// Once the cluster has settled and the recording holds what the server holds: a moment to
            /// compare the journals at, once the recording has an event after it (a node's lease is
            /// renewed every 10 s).
            func sample(_ cluster: ServedCluster, _ what: String, _ settled: () throws -> Bool) throws {
                _ = try cluster.eventually(120, what, settled)
                _ = try cluster.eventually(60, "the recording caught up (\(what))") {
                    try Self.pods(at: nil, in: recorded) == Self.pods(at: nil, in: cluster.journal)
                }
                let t = Self.now()
                samples.append(t)
                _ = try cluster.eventually(30, "the recording past \(t)") { try Self.stat(recorded)["headTime"] as? String ?? "" > t }
            }
            func web(_ cluster: ServedCluster) throws -> [String] {
                try cluster.kubectl(["get", "pods", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.status.phase}/{.spec.nodeName}/{.metadata.deletionTimestamp}{\"\\n\"}{end}"])
                    .stdout.split(separator: "\n").map(String.init)
            }

            // A Deployment and its rollout.
            #expect(try cluster.kubectl(["create", "deployment", "web", "--image=nginx:1.27", "--replicas=4"]).status == 0)
            try sample(cluster, "4 web pods running") { try web(cluster).filter { $0.hasPrefix("Running/") }.count == 4 }
            #expect(try cluster.kubectl(["set", "image", "deployment/web", "nginx=nginx:1.28"]).status == 0)
            try sample(cluster, "the rollout done") {
                try cluster.kubectl(["get", "deployment", "web", "-o", "jsonpath={.status.updatedReplicas}/{.status.readyReplicas}/{.status.replicas}"]).stdout == "4/4/4"
                    && web(cluster).count == 4
            }

            // A node crash: its pods are evicted and replaced elsewhere.
            let crashed = try web(cluster).compactMap { $0.split(separator: "/").dropFirst().first.map(String.init) }.first ?? "node-1"
            #expect(try runKJ(["fault", "crash", crashed, "--kubeconfig", kubeconfig]).status == 0)
            try sample(cluster, "web running away from \(crashed)") {
                try web(cluster).filter { $0.hasPrefix("Running/") && !$0.contains("/\(crashed)/") }.count == 4
            }

            // The server restarts at the same address while the recorder watches; it carries on.
            let port = try #require(cluster.url.split(separator: ":").last.map(String.init))
            #expect(cluster.stop() == 0)
            cluster = try ServedCluster(nodes: 3, options: Self.serveOptions + ["--listen", "127.0.0.1:\(port)"], after: cluster)
            #expect(try cluster.kubectl(["scale", "deployment/web", "--replicas=5"]).status == 0)
            try sample(cluster, "5 web pods running after the restart") {
                try web(cluster).filter { $0.hasPrefix("Running/") && !$0.contains("/\(crashed)/") }.count == 5
            }

            // The recorder stops; while it is away the cluster moves on further than the server's
            // watch window, so its watches come back to 410 Gone and list again.
            #expect(recorder.stop() == 0)
            let away = try Self.stat(cluster.journal)["headRevision"] as? Int ?? 0
            #expect(try cluster.kubectl(["scale", "deployment/web", "--replicas=2"]).status == 0)
            let configMaps = (1...60).map { "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c\($0)}\n" }
            #expect(try cluster.kubectl(["apply", "-f", "-"], stdin: configMaps.joined(separator: "---\n")).status == 0)
            _ = try cluster.eventually(60, "the server 70 revisions further") { try Self.stat(cluster.journal)["headRevision"] as? Int ?? 0 > away + 70 }
            recorder = try RecordProcess(kubeconfig: kubeconfig, journal: recorded, output: dir.sub("record-2.out"))
            _ = try cluster.eventually(60, "pods listed again after 410") { recorder.text.contains(" pods at resourceVersion") && recorder.text.contains("(expired)") }
            try sample(cluster, "2 web pods") { try web(cluster).filter { !$0.contains("/\(crashed)/") }.map { $0.prefix(8) } == ["Running/", "Running/"] }
            #expect(recorder.stop() == 0)
            #expect(cluster.stop() == 0)

            // The recording's pods, at every sampled moment, are the served journal's.
            for t in samples {
                let served = try Self.pods(at: t, in: cluster.journal), seen = try Self.pods(at: t, in: recorded)
                #expect(seen == served, "pods at \(t) differ:\n\(served)\n---\n\(seen)")
            }
            // What the recording says about itself: the relist, the pods deleted while it was away,
            // and actors from managedFields.
            let listed = try runKJ(["events", "--type", "Listed", "--journal", recorded, "-o", "json"]).stdout
            #expect(listed.contains("expired"), "\(listed)")
            let history = try runKJ(["history", "deployment/web", "--journal", recorded]).stdout
            #expect(history.contains("fieldManager/kubectl-create") && history.contains("controller/kube-controller-manager"), "\(history)")
            let verify = try runKJ(["journal", "verify", "--journal", recorded])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        }

        /// Now, as the journals write times (RFC 3339 in microseconds, UTC), so that times compare as text.
        static func now() -> String {
            let micros = Int64(Date().timeIntervalSince1970 * 1_000_000)
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime]
            let seconds = f.string(from: Date(timeIntervalSince1970: TimeInterval(micros / 1_000_000))).dropLast()
            return seconds + String(format: ".%06dZ", micros % 1_000_000)
        }

        /// `kj journal stat -o json` of a journal (read while its writer runs).
        static func stat(_ journal: String) throws -> [String: Any] {
            let stat = try runKJ(["journal", "stat", "-o", "json", "--journal", journal]).stdout
            return try JSONSerialization.jsonObject(with: Data(stat.utf8)) as? [String: Any] ?? [:]
        }

        /// Every pod at `t` (nil: now), whole, as `kj get pods -A -o json` shows it, without
        /// resourceVersions (each journal numbers its own revisions).
        static func pods(at t: String?, in journal: String) throws -> String {
            try AuditLogServeTests.objects(["get", "pods", "-A"] + (t.map { ["--at", $0] } ?? []), in: journal)
        }
    }
}
