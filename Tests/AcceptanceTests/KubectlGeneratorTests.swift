import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// kubectl's imperative generators (`kubectl create namespace|deployment|service`) and
    /// `kubectl drain` send their bodies as Kubernetes protobuf, not JSON; kj serve decodes them.
    @Suite(.serialized) struct KubectlGeneratorTests {
        func object(_ cluster: ServedCluster, _ arguments: [String]) throws -> [String: Any] {
            let r = try cluster.kubectl(["get"] + arguments + ["-o", "json"])
            #expect(r.status == 0, "\(arguments): \(r.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        }

        @Test func createNamespaceDeploymentAndService() throws {
            let cluster = try ServedCluster()

            let ns = try cluster.kubectl(["create", "namespace", "prod"])
            #expect(ns.status == 0, "\(ns.stderr)")
            #expect(ns.stdout.contains("namespace/prod created"))
            let prod = try object(cluster, ["namespace", "prod"])
            #expect((prod["status"] as? [String: Any])?["phase"] as? String == "Active")

            let create = try cluster.kubectl(["create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", "prod"])
            #expect(create.status == 0, "\(create.stderr)")
            #expect(create.stdout.contains("deployment.apps/web created"))
            let rollout = try cluster.kubectl(["rollout", "status", "deployment/web", "-n", "prod", "--timeout=90s"])
            #expect(rollout.status == 0, "\(rollout.stdout)\(rollout.stderr)")
            #expect(rollout.stdout.contains("successfully rolled out"))

            let web = try object(cluster, ["deployment", "web", "-n", "prod"])
            let spec = try #require(web["spec"] as? [String: Any])
            #expect(spec["replicas"] as? Int == 2)
            #expect((spec["selector"] as? [String: Any])?["matchLabels"] as? [String: String] == ["app": "web"])
            let template = try #require(spec["template"] as? [String: Any])
            #expect((template["metadata"] as? [String: Any])?["labels"] as? [String: String] == ["app": "web"])
            let containers = try #require((template["spec"] as? [String: Any])?["containers"] as? [[String: Any]])
            #expect(containers.count == 1)
            #expect(containers.first?["name"] as? String == "nginx")
            #expect(containers.first?["image"] as? String == "nginx")
            #expect((web["status"] as? [String: Any])?["readyReplicas"] as? Int == 2)
            let pods = try cluster.kubectl(["get", "pods", "-n", "prod", "-l", "app=web"])
            #expect(pods.stdout.components(separatedBy: "Running").count - 1 == 2, "\(pods.stdout)")

            let svc = try cluster.kubectl(["create", "service", "clusterip", "web", "--tcp=80:80", "-n", "prod"])
            #expect(svc.status == 0, "\(svc.stderr)")
            #expect(svc.stdout.contains("service/web created"))
            let service = try object(cluster, ["service", "web", "-n", "prod"])
            let serviceSpec = try #require(service["spec"] as? [String: Any])
            #expect(serviceSpec["type"] as? String == "ClusterIP")
            #expect(serviceSpec["selector"] as? [String: String] == ["app": "web"])
            let port = try #require((serviceSpec["ports"] as? [[String: Any]])?.first)
            #expect(port["port"] as? Int == 80)
            #expect(port["targetPort"] as? Int == 80)
            #expect(port["protocol"] as? String == "TCP")
            // The service selects the deployment's two pods.
            _ = try cluster.eventually(30, "two endpoints for prod/web") {
                let ep = try self.object(cluster, ["endpoints", "web", "-n", "prod"])
                let subsets = ep["subsets"] as? [[String: Any]] ?? []
                return subsets.reduce(0) { $0 + (($1["addresses"] as? [Any])?.count ?? 0) } == 2
            }

            // Server-side dry run: answered, nothing stored.
            let dry = try cluster.kubectl(["create", "namespace", "rehearsal", "--dry-run=server"])
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stdout.contains("namespace/rehearsal created (server dry run)"))
            #expect(try cluster.kubectl(["get", "namespace", "rehearsal"]).status != 0)

            // The journal names kubectl's user as the creator.
            let history = try cluster.kj(["history", "deployment/web", "-n", "prod"])
            #expect(history.status == 0, "\(history.stderr)")
            #expect(history.stdout.contains("user/admin"), "\(history.stdout)")
            #expect(cluster.stop() == 0)
        }

        @Test func drainDeletesPodsWithProtobufDeleteOptions() throws {
            let cluster = try ServedCluster()
            #expect(try cluster.kubectl(["create", "deployment", "web", "--image=nginx", "--replicas=3"]).status == 0)
            let rollout = try cluster.kubectl(["rollout", "status", "deployment/web", "--timeout=90s"])
            #expect(rollout.status == 0, "\(rollout.stdout)\(rollout.stderr)")
            let node = try #require(try object(cluster, ["pods", "-l", "app=web"])["items"].flatMap { $0 as? [[String: Any]] }?
                .compactMap { ($0["spec"] as? [String: Any])?["nodeName"] as? String }.first)

            let drain = try cluster.kubectl(["drain", node, "--ignore-daemonsets", "--timeout=60s"])
            #expect(drain.status == 0, "\(drain.stdout)\(drain.stderr)")
            #expect(drain.stdout.contains("node/\(node) drained"), "\(drain.stdout)")
            let onNode = try cluster.kubectl(["get", "pods", "--field-selector", "spec.nodeName=\(node)", "-o", "name"])
            #expect(onNode.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(onNode.stdout)")
            let again = try cluster.kubectl(["rollout", "status", "deployment/web", "--timeout=90s"])
            #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
            #expect(cluster.stop() == 0)
        }
    }
}
