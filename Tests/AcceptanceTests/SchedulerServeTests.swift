import ClusterModel
import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// `kj serve --scheduler-config`: kube-scheduler's configuration file on a live server, profiles
    /// chosen by `spec.schedulerName`, PriorityClasses and preemption through kubectl.
    @Suite struct SchedulerServeTests {
        static let configuration = """
            apiVersion: kubescheduler.config.k8s.io/v1
            kind: KubeSchedulerConfiguration
            profiles:
            - schedulerName: default-scheduler
            - schedulerName: bin-packing
              plugins:
                score:
                  disabled: [{name: PodTopologySpread}]
              pluginConfig:
              - name: NodeResourcesFit
                args:
                  scoringStrategy:
                    type: MostAllocated
            """

        @Test(.timeLimit(.minutes(4)))
        func profilesFromTheConfigurationFileDecideAndAreJournalled() throws {
            let dir = TemporaryDirectory("kj-scheduler-config")
            let file = dir.sub("scheduler.yaml")
            try Self.configuration.write(toFile: file, atomically: true, encoding: .utf8)
            let cluster = try ServedCluster(nodes: 3, options: ["--scheduler-config", file])
            defer { _ = cluster.stop() }
            let manifest = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: packed}
                spec:
                  replicas: 4
                  selector: {matchLabels: {app: packed}}
                  template:
                    metadata: {labels: {app: packed}}
                    spec:
                      schedulerName: bin-packing
                      containers:
                      - {name: c, image: nginx, resources: {requests: {cpu: 100m}}}
                """
            #expect(try cluster.kubectl(["apply", "-f", "-"], stdin: manifest).status == 0)
            #expect(try cluster.kubectl(["rollout", "status", "deployment/packed", "--timeout=120s"]).status == 0)
            let nodes = try cluster.kubectl(["get", "pods", "-l", "app=packed", "-o", "jsonpath={.items[*].spec.nodeName}"])
            #expect(Set(nodes.stdout.split(separator: " ")).count == 1, "\(nodes.stdout)")
            let configured = try cluster.kj(["events", "--type", "SchedulerConfigured"])
            #expect(configured.stdout.contains("SchedulerProfile/bin-packing"), "\(configured.stdout)")
            let pod = try #require(nodes.stdout.isEmpty ? nil : try cluster.kubectl(["get", "pods", "-l", "app=packed", "-o", "jsonpath={.items[0].metadata.name}"]).stdout)
            let why = try cluster.kj(["why", "pod/\(pod)", "--full"])
            #expect(why.stdout.contains("Profile bin-packing (sha256:"), "\(why.stdout)")
            #expect(why.stdout.contains("Re-run on the observed state: agrees"), "\(why.stdout)")
        }

        @Test func aBrokenConfigurationIsRefusedWithTheFieldsPath() throws {
            let dir = TemporaryDirectory("kj-scheduler-config-bad")
            let file = dir.sub("scheduler.yaml")
            try Self.configuration.replacingOccurrences(of: "MostAllocated", with: "Fewest").write(toFile: file, atomically: true, encoding: .utf8)
            let r = try runKJ(["serve", "--journal", dir.sub("journal"), "--listen", "127.0.0.1:0", "--scheduler-config", file])
            #expect(r.status != 0)
            #expect(r.stderr.contains("profiles[1].pluginConfig[0].args.scoringStrategy.type: Unsupported value: \"Fewest\""), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.sub("journal") + "/data.mdb"))
        }

        @Test(.timeLimit(.minutes(4)))
        func kubectlCreatesAPriorityClassAndAHighPriorityPodPreempts() throws {
            let cluster = try ServedCluster(nodes: 1)
            defer { _ = cluster.stop() }
            #expect(try cluster.kubectl(["create", "priorityclass", "high", "--value=1000", "--description=urgent work"]).status == 0)
            let classes = try cluster.kubectl(["get", "priorityclasses"])
            #expect(classes.stdout.contains("high") && classes.stdout.contains("1000"), "\(classes.stdout)")
            let filler = """
                apiVersion: v1
                kind: Pod
                metadata: {name: filler}
                spec:
                  containers:
                  - {name: c, image: nginx, resources: {requests: {cpu: "3"}}}
                """
            #expect(try cluster.kubectl(["apply", "-f", "-"], stdin: filler).status == 0)
            #expect(try cluster.kubectl(["wait", "--for=condition=Ready", "pod/filler", "--timeout=60s"]).status == 0)
            let urgent = """
                apiVersion: v1
                kind: Pod
                metadata: {name: urgent}
                spec:
                  priorityClassName: high
                  containers:
                  - {name: c, image: nginx, resources: {requests: {cpu: "3"}}}
                """
            #expect(try cluster.kubectl(["apply", "-f", "-"], stdin: urgent).status == 0)
            #expect(try cluster.kubectl(["wait", "--for=condition=Ready", "pod/urgent", "--timeout=120s"]).status == 0)
            let priority = try cluster.kubectl(["get", "pod", "urgent", "-o", "jsonpath={.spec.priority}"])
            #expect(priority.stdout == "1000")
            let events = try cluster.kubectl(["get", "events", "--field-selector", "reason=Preempted", "-o", "jsonpath={.items[*].message}"])
            #expect(events.stdout.contains("Preempted by pod") && events.stdout.contains("on node node-1"), "\(events.stdout)")
            let missing = try cluster.kubectl(["run", "lost", "--image=nginx", "--overrides={\"spec\":{\"priorityClassName\":\"nope\"}}"])
            #expect(missing.status != 0 && missing.stderr.contains("no PriorityClass with name nope was found"), "\(missing.stderr)")
        }
    }
}
