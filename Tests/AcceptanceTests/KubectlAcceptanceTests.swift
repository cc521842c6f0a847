import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// kubectl 1.32, unchanged and without special flags, against `kj serve`; then `kj why` and
    /// `kj history` on what it did, which name kubectl's user as the actor.
    @Suite(.serialized) struct KubectlAcceptanceTests {
        @Test func aPodFromKubectlRunToDeletion() throws {
            let cluster = try ServedCluster()
            let run = try cluster.kubectl(["run", "nginx", "--image=nginx"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("pod/nginx created"))

            _ = try cluster.eventually(60, "nginx Running") {
                let wide = try cluster.kubectl(["get", "pods", "-o", "wide"])
                return wide.stdout.contains("Running") && wide.stdout.contains("1/1")
            }
            let wide = try cluster.kubectl(["get", "pods", "-o", "wide"])
            for column in ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"] {
                #expect(wide.stdout.contains(column), "get pods -o wide should show \(column): \(wide.stdout)")
            }
            #expect(wide.stdout.contains("node-"))

            let all = try cluster.kubectl(["get", "pods", "-A"])
            #expect(all.stdout.contains("NAMESPACE") && all.stdout.contains("default") && all.stdout.contains("nginx"), "\(all.stdout)\(all.stderr)")

            let json = try cluster.kubectl(["get", "pod", "nginx", "-o", "json"])
            let pod = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect((pod["status"] as? [String: Any])?["phase"] as? String == "Running")
            let yaml = try cluster.kubectl(["get", "pods", "-o", "yaml"])
            #expect(yaml.stdout.contains("kind: List") && yaml.stdout.contains("name: nginx"))

            let nodes = try cluster.kubectl(["get", "nodes"])
            #expect(nodes.stdout.contains("node-1") && nodes.stdout.contains("Ready"), "\(nodes.stdout)\(nodes.stderr)")

            let describe = try cluster.kubectl(["describe", "pod", "nginx"])
            for reason in ["Scheduled", "Pulled", "Started"] { #expect(describe.stdout.contains(reason), "describe pod: \(describe.stdout)\(describe.stderr)") }

            let events = try cluster.kubectl(["get", "events"])
            #expect(events.stdout.contains("Scheduled") && events.stdout.contains("pod/nginx"), "\(events.stdout)\(events.stderr)")

            let delete = try cluster.kubectl(["delete", "pod", "nginx"])
            #expect(delete.status == 0, "\(delete.stderr)")
            #expect(delete.stdout.contains("pod \"nginx\" deleted"))
            let after = try cluster.kubectl(["get", "pod", "nginx"])
            #expect(after.status != 0)
            #expect(after.stderr.contains("NotFound") || after.stderr.contains("not found"), "\(after.stderr)")

            // The journal knows who did it.
            let history = try cluster.kj(["history", "pod/nginx"])
            #expect(history.status == 0, "\(history.stderr)")
            #expect(history.stdout.contains("user/admin"))
            #expect(history.stdout.contains("DeletionStarted"))
            #expect(history.stdout.contains("pod nginx removed"))
            let why = try cluster.kj(["why", "pod/nginx"])
            #expect(why.stdout.contains("user/admin") && why.stdout.contains("is gone"), "\(why.stdout)")
            #expect(why.stdout.contains("deletion requested") && why.stdout.contains("by user/admin"))
            #expect(cluster.stop() == 0)
        }

        static let deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              replicas: 3
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                spec:
                  containers:
                  - name: nginx
                    image: nginx:1.27
                    ports: [{containerPort: 80}]
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              selector: {app: web}
              ports: [{port: 80, targetPort: 80}]
            """

        @Test func aDeploymentCreatedScaledRolledOutRolledBackAndDeleted() throws {
            let cluster = try ServedCluster()
            let file = cluster.directory.sub("web.yaml")
            try Self.deployment.write(toFile: file, atomically: true, encoding: .utf8)
            let created = try cluster.kubectl(["create", "-f", file])
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout.contains("deployment.apps/web created") && created.stdout.contains("service/web created"))

            let applied = try cluster.kubectl(["apply", "-f", file])
            #expect(applied.status == 0, "\(applied.stderr)")
            let status = try cluster.kubectl(["rollout", "status", "deployment/web", "--timeout=90s"])
            #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
            #expect(status.stdout.contains("successfully rolled out"))

            let scaled = try cluster.kubectl(["scale", "deployment", "web", "--replicas=5"])
            #expect(scaled.status == 0, "\(scaled.stderr)")
            _ = try cluster.eventually(60, "5 ready replicas") {
                try cluster.kubectl(["get", "deployment", "web"]).stdout.contains("5/5")
            }

            let setImage = try cluster.kubectl(["set", "image", "deployment/web", "nginx=nginx:1.28"])
            #expect(setImage.status == 0, "\(setImage.stderr)")
            let rolled = try cluster.kubectl(["rollout", "status", "deployment/web", "--timeout=120s"])
            #expect(rolled.status == 0, "\(rolled.stdout)\(rolled.stderr)")
            let undo = try cluster.kubectl(["rollout", "undo", "deployment/web"])
            #expect(undo.status == 0, "\(undo.stderr)")
            #expect(undo.stdout.contains("rolled back"))
            _ = try cluster.eventually(120, "the rollback to nginx:1.27") {
                let d = try cluster.kubectl(["get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.status.updatedReplicas} {.status.availableReplicas}"])
                return d.stdout == "nginx:1.27 5 5"
            }
            let replicaSets = try cluster.kubectl(["get", "rs"])
            #expect(replicaSets.stdout.split(separator: "\n").count == 3, "two ReplicaSets: \(replicaSets.stdout)")

            let deleted = try cluster.kubectl(["delete", "deployment", "web"])
            #expect(deleted.status == 0, "\(deleted.stderr)")
            _ = try cluster.eventually(90, "garbage collection of the ReplicaSets and pods") {
                let rs = try cluster.kubectl(["get", "rs", "-o", "name"]).stdout
                let pods = try cluster.kubectl(["get", "pods", "-o", "name"]).stdout
                return rs.isEmpty && pods.isEmpty
            }
            let history = try cluster.kj(["history", "deployment/web"])
            #expect(history.stdout.contains("user/admin"))
            #expect(history.stdout.contains("garbage-collector") || history.stdout.contains("replicaset"), "\(history.stdout)")
        }

        @Test func getWatchSeesChangesLive() throws {
            let cluster = try ServedCluster()
            let watcher = Process()
            watcher.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            watcher.arguments = ["kubectl", "get", "pods", "-w"]
            watcher.environment = ProcessInfo.processInfo.environment.merging(["KUBECONFIG": cluster.kubeconfig]) { $1 }
            let out = ChildProcesses.pipe()
            watcher.standardOutput = out
            watcher.standardError = FileHandle.nullDevice
            try ChildProcesses.start(watcher)
            defer { if watcher.isRunning { watcher.terminate() } }
            try cluster.waitForWatchers(1)
            #expect(try cluster.kubectl(["run", "watched", "--image=busybox"]).status == 0)
            let text = Box()
            let reader = Thread {
                while true {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { return }
                    text.append(String(decoding: chunk, as: UTF8.self))
                }
            }
            reader.start()
            _ = try cluster.eventually(60, "the watch to show the pod Running") {
                text.value.split(separator: "\n").contains { $0.contains("watched") && $0.contains("Running") }
            }
            let lines = text.value.split(separator: "\n").filter { $0.contains("watched") }
            #expect(lines.contains { $0.contains("Pending") || $0.contains("ContainerCreating") }, "\(text.value)")
            watcher.terminate()
        }
    }
}

final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func append(_ s: String) { lock.lock(); text += s; lock.unlock() }
    var value: String { lock.lock(); defer { lock.unlock() }; return text }
}
