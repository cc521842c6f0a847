import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// `kj serve --audit-log`: a kubectl session's audit log, read back by `kj import audit`.
    @Suite struct AuditLogServeTests {
        static func policy(_ dir: TemporaryDirectory, level: String) throws -> String {
            let path = dir.sub("policy-\(level).yaml")
            try """
                apiVersion: audit.k8s.io/v1
                kind: Policy
                omitStages: [RequestReceived]
                rules:
                - level: None
                  nonResourceURLs: ["/healthz*", "/version", "/openapi*"]
                - level: \(level)
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// At RequestResponse the import rebuilds every object: each user write is the same object in
        /// both journals, and the cluster ends the same, its controllers' and kubelets' writes included.
        @Test(.timeLimit(.minutes(10)))
        func aKubectlSessionsAuditLogImportsToTheSameObjects() throws {
            let dir = TemporaryDirectory()
            let log = dir.sub("audit.log")
            let cluster = try ServedCluster(options: ["--audit-log", log, "--audit-policy", try Self.policy(dir, level: "RequestResponse")])
            #expect(try cluster.kubectl(["create", "deployment", "web", "--image=nginx:1.27", "--replicas=3"]).status == 0)
            _ = try cluster.eventually(90, "3 web pods ready") {
                try cluster.kubectl(["get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}"]).stdout == "3"
            }
            #expect(try cluster.kubectl(["scale", "deployment/web", "--replicas=2"]).status == 0)
            _ = try cluster.eventually(90, "2 web pods") {
                try cluster.kubectl(["get", "pods", "-l", "app=web", "-o", "name"]).stdout.split(separator: "\n").count == 2
            }
            #expect(try cluster.kubectl(["create", "configmap", "cfg", "--from-literal=a=b"]).status == 0)
            #expect(try cluster.kubectl(["label", "configmap", "cfg", "team=x"]).status == 0)
            #expect(try cluster.kubectl(["get", "configmap", "missing"]).status != 0)
            #expect(cluster.stop() == 0)

            let imported = dir.sub("imported")
            let r = try runKJ(["import", "audit", log, "--journal", imported])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("1 refused request(s)"), "\(r.stdout)")
            let refused = try runKJ(["events", "--type", "RequestRefused", "--journal", imported]).stdout
            #expect(refused.contains(#"get configmaps refused (404 NotFound): configmaps "missing" not found"#), "\(refused)")

            // The cluster as it ended: everything the server and its components made after it started.
            for kind in ["deployments", "replicasets", "pods", "configmaps", "endpoints", "endpointslices", "leases", "nodes"] {
                let a = try Self.objects(["get", kind, "-A"], in: cluster.journal), b = try Self.objects(["get", kind, "-A"], in: imported)
                #expect(a == b, "\(kind) differ at the end")
            }
            // Each of the user's writes: the same object, under the same request id.
            let original = try Self.events(cluster.journal), copy = try Self.events(imported)
            let userWrites = original.filter { ($0["actor"] as? String) == "user/admin" && Self.writeTypes.contains($0["type"] as? String ?? "") }
            #expect(userWrites.count == 4, "\(userWrites.map { $0["type"] ?? "" })")
            for write in userWrites {
                let request = try #require(write["request"] as? String)
                let twin = try #require(copy.first { $0["request"] as? String == request }, "no event for request \(request)")
                let object = try #require(write["object"] as? String)
                let parts = object.split(separator: "/").map(String.init)
                let name = "\(parts[0].lowercased())/\(parts.last!)", namespace = parts.count == 3 ? ["-n", parts[1]] : []
                let a = try Self.objects(["get", name] + namespace + ["--at", "\(write["revision"]!)"], in: cluster.journal)
                let b = try Self.objects(["get", name] + namespace + ["--at", "\(twin["revision"]!)"], in: imported)
                let marker = #""audit.kubejournal.io/content":"patched","#
                if b.contains(marker) {
                    // kubectl scale writes the scale subresource, whose response is a Scale (as
                    // kube-apiserver logs it): the Deployment is rebuilt from its last state, the new
                    // replicas and the next generation, and says so.
                    #expect(object == "Deployment/default/web", "\(object): \(b)")
                    #expect(a == b.replacingOccurrences(of: marker, with: ""), "\(object) after request \(request)")
                } else {
                    #expect(a == b, "\(object) after request \(request)")
                }
            }
        }

        /// At Metadata the import still has every write of every object, each saying the log held no more.
        @Test(.timeLimit(.minutes(10)))
        func atLevelMetadataEveryObjectsHistoryIsThere() throws {
            let dir = TemporaryDirectory()
            let log = dir.sub("audit.log")
            let cluster = try ServedCluster(nodes: 1, options: ["--audit-log", log, "--audit-policy", try Self.policy(dir, level: "Metadata")])
            #expect(try cluster.kubectl(["create", "configmap", "cfg", "--from-literal=a=b"]).status == 0)
            #expect(try cluster.kubectl(["label", "configmap", "cfg", "team=x"]).status == 0)
            #expect(try cluster.kubectl(["delete", "configmap", "cfg"]).status == 0)
            #expect(cluster.stop() == 0)
            let imported = dir.sub("imported")
            #expect(try runKJ(["import", "audit", log, "--journal", imported]).status == 0)
            let history = try runKJ(["history", "configmap/cfg", "--journal", imported]).stdout
            for line in ["user/admin   Created", "user/admin   Updated", "user/admin   Deleted"] { #expect(history.contains(line), "\(line): \(history)") }
            // Its three writes (and kubectl delete's last look, refused: it is gone).
            let events = try Self.events(imported).filter { ($0["object"] as? String) == "ConfigMap/default/cfg" && Self.writeTypes.contains($0["type"] as? String ?? "") }
            #expect(events.count == 3)
            let at = try #require(events.first?["revision"])
            let object = try runKJ(["get", "configmap/cfg", "-o", "yaml", "--at", "\(at)", "--journal", imported]).stdout
            #expect(object.contains("audit.kubejournal.io/content: metadata"), "\(object)")
        }

        static let writeTypes: Set<String> = ["Created", "Updated", "StatusUpdated", "Bound", "DeletionStarted", "Deleted"]

        static func events(_ journal: String) throws -> [[String: Any]] {
            let out = try runKJ(["events", "--journal", journal, "-o", "json"]).stdout
            return try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] ?? []
        }

        /// `kj ARGS -o json` without resourceVersions (each journal numbers its own revisions).
        static func objects(_ arguments: [String], in journal: String) throws -> String {
            let r = try runKJ(arguments + ["-o", "json", "--journal", journal])
            guard r.status == 0 else { return "error: \(r.stderr)" }
            func strip(_ v: Any) -> Any {
                if var o = v as? [String: Any] {
                    o["resourceVersion"] = nil
                    return o.mapValues(strip)
                }
                if let a = v as? [Any] { return a.map(strip) }
                return v
            }
            let cleaned = strip(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)))
            return String(decoding: try JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        }
    }
}
