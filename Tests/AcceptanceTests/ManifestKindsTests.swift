import Foundation
import Testing
import TestSupport

/// Real manifests with kubectl 1.32 and no flags: a directory in the style of the Kubernetes
/// tutorials (`manifests/`) holding the config, workload, storage, network and policy kinds, then
/// kubectl's generators, `kubectl explain`, and kj's own queries on the new kinds.
@Suite(.serialized) struct ManifestKindsTests {
    static let manifests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("manifests").path

    @Test(.timeLimit(.minutes(3)))
    func aDirectoryOfTutorialManifestsAppliesAndItsPodsRunOnTheirConfiguration() throws {
        let cluster = try ServedCluster()
        let applied = try cluster.kubectl(["apply", "-f", Self.manifests])
        #expect(applied.status == 0, "\(applied.stderr)")
        for line in [
            "namespace/team-a created", "configmap/frontend-config created", "secret/redis-auth created",
            "deployment.apps/frontend created", "service/frontend created", "storageclass.storage.k8s.io/standard created",
            "statefulset.apps/web created", "daemonset.apps/fluentd-elasticsearch created", "job.batch/pi created",
            "cronjob.batch/hello created", "ingressclass.networking.k8s.io/nginx created", "ingress.networking.k8s.io/guestbook created",
            "horizontalpodautoscaler.autoscaling/frontend created", "poddisruptionbudget.policy/frontend created",
            "resourcequota/compute created", "limitrange/defaults created",
        ] {
            #expect(applied.stdout.contains(line), "\(line) missing from: \(applied.stdout)")
        }

        // The frontend mounts and reads the ConfigMap, the leader the Secret: all four run.
        _ = try cluster.eventually(90, "the guestbook's pods Running") {
            let pods = try cluster.kubectl(["get", "pods", "-l", "tier in (frontend,backend)", "--no-headers"]).stdout
            return pods.split(separator: "\n").count == 4 && pods.split(separator: "\n").allSatisfy { $0.contains("Running") && $0.contains("1/1") }
        }
        // Services get a ClusterIP (and a node port) and EndpointSlices, which kubectl describe reads.
        let services = try cluster.kubectl(["get", "service", "frontend", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}"]).stdout
        let parts = services.split(separator: " ")
        #expect(parts.count == 2 && parts[0].hasPrefix("10.") && (Int(parts[1]).map { (30000...32767).contains($0) } ?? false), "\(services)")
        _ = try cluster.eventually(30, "three frontend endpoints in describe") {
            let described = try cluster.kubectl(["describe", "service", "frontend"]).stdout
            return described.range(of: #"Endpoints:\s+10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80"#, options: .regularExpression) != nil
        }
        let slices = try cluster.kubectl(["get", "endpointslices", "-l", "kubernetes.io/service-name=frontend"])
        #expect(slices.stdout.contains("IPv4") && slices.stdout.contains("frontend-"), "\(slices.stdout)\(slices.stderr)")
        // Headless stays headless.
        #expect(try cluster.kubectl(["get", "service", "nginx", "-o", "jsonpath={.spec.clusterIP}"]).stdout == "None")

        // Every kind is listed with kubectl's columns.
        for (resource, columns) in [
            ("configmaps", ["DATA"]), ("secrets", ["TYPE", "DATA"]), ("statefulsets", ["READY"]), ("jobs", ["STATUS", "COMPLETIONS"]),
            ("cronjobs", ["SCHEDULE", "SUSPEND", "ACTIVE"]), ("ingresses", ["CLASS", "HOSTS"]), ("hpa", ["REFERENCE", "MINPODS"]),
            ("pdb", ["MIN AVAILABLE", "ALLOWED DISRUPTIONS"]), ("storageclasses", ["PROVISIONER", "VOLUMEBINDINGMODE"]),
            ("daemonsets -n kube-system", ["DESIRED", "NODE SELECTOR"]), ("resourcequotas -n team-a", ["REQUEST", "LIMIT"]),
        ] {
            let got = try cluster.kubectl(["get"] + resource.split(separator: " ").map(String.init))
            #expect(got.status == 0, "\(resource): \(got.stderr)")
            for column in columns { #expect(got.stdout.contains(column), "\(resource) lacks \(column): \(got.stdout)") }
        }
        #expect(try cluster.kubectl(["get", "storageclass"]).stdout.contains("standard (default)"))

        // Every namespace gets its default ServiceAccount, and pods run as it.
        _ = try cluster.eventually(30, "team-a's default account") {
            try cluster.kubectl(["get", "serviceaccount", "default", "-n", "team-a"]).status == 0
        }
        let account = try cluster.kubectl(["get", "pods", "-l", "app=redis", "-o", "jsonpath={.items[0].spec.serviceAccountName}"]).stdout
        #expect(account == "default")

        // kj reads every kind from the journal, and never shows a secret's value.
        let secretValue = "correct-horse-battery-staple"
        let encoded = Data(secretValue.utf8).base64EncodedString()
        for command in [
            ["get", "secret", "redis-auth", "-o", "yaml"], ["get", "secret", "redis-auth", "-o", "json"], ["describe", "secret", "redis-auth"],
            ["history", "secret/redis-auth"], ["history", "secret/redis-auth", "-o", "json"], ["events", "--kind", "secret", "-o", "json"],
            ["diff", "1"],
        ] {
            let r = try runKJ(command + ["--journal", cluster.journal])
            #expect(r.status == 0, "\(command): \(r.stderr)")
            #expect(!r.stdout.contains(secretValue) && !r.stdout.contains(encoded), "kj \(command.joined(separator: " ")) shows the secret: \(r.stdout)")
        }
        let described = try runKJ(["describe", "secret", "redis-auth", "--journal", cluster.journal]).stdout
        #expect(described.contains("password:  28 bytes"), "\(described)")
        for object in ["configmap/frontend-config", "statefulset/web", "cronjob/hello", "ingress/guestbook", "pdb/frontend", "hpa/frontend",
                       "serviceaccount/default"] {
            let history = try runKJ(["history", object, "--journal", cluster.journal])
            #expect(history.status == 0 && history.stdout.contains("Created"), "kj history \(object): \(history.stdout)\(history.stderr)")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func kubectlGeneratorsExplainAndFieldValidationWorkOnTheNewKinds() throws {
        let cluster = try ServedCluster()
        // kubectl sends these as protobuf.
        for (command, created) in [
            (["create", "configmap", "app", "--from-literal=LEVEL=debug"], "configmap/app created"),
            (["create", "secret", "generic", "db", "--from-literal=password=hunter2"], "secret/db created"),
            (["create", "serviceaccount", "robot"], "serviceaccount/robot created"),
            (["create", "job", "once", "--image=busybox"], "job.batch/once created"),
            (["create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *"], "cronjob.batch/tick created"),
        ] {
            let r = try cluster.kubectl(command)
            #expect(r.status == 0 && r.stdout.contains(created), "kubectl \(command.joined(separator: " ")): \(r.stdout)\(r.stderr)")
        }
        let secret = try cluster.kubectl(["get", "secret", "db", "-o", "jsonpath={.data.password}"]).stdout
        #expect(secret == Data("hunter2".utf8).base64EncodedString())
        let job = try cluster.kubectl(["get", "job", "once", "-o", "jsonpath={.spec.selector.matchLabels}"]).stdout
        #expect(job.contains("batch.kubernetes.io/controller-uid"), "\(job)")

        // kubectl explain reads the OpenAPI v3 schemas, at every level.
        let containers = try cluster.kubectl(["explain", "pod.spec.containers"])
        #expect(containers.status == 0, "\(containers.stderr)")
        #expect(containers.stdout.contains("FIELD: containers <[]Container>"), "\(containers.stdout)")
        #expect(containers.stdout.range(of: #"env\s+<\[\]EnvVar>"#, options: .regularExpression) != nil, "\(containers.stdout)")
        let recursive = try cluster.kubectl(["explain", "deployment", "--recursive"])
        #expect(recursive.status == 0, "\(recursive.stderr)")
        for field in ["replicas", "template", "containers", "secretKeyRef", "maxSurge"] {
            #expect(recursive.stdout.contains(field), "explain --recursive lacks \(field)")
        }
        let cronJob = try cluster.kubectl(["explain", "cronjob.spec.jobTemplate.spec"])
        #expect(cronJob.status == 0 && cronJob.stdout.contains("backoffLimit"), "\(cronJob.stdout)\(cronJob.stderr)")
        let v2 = try cluster.curl("GET", "/openapi/v2", token: cluster.adminToken)
        #expect(v2.code == 200 && v2.body.contains("\"io.k8s.api.batch.v1.CronJob\""))

        // An unknown field is refused with Kubernetes' message, and nothing is written.
        let typo = """
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: typo}
            spec:
              replicas: 1
              replica: 2
              selector: {matchLabels: {app: t}}
              template:
                metadata: {labels: {app: t}}
                spec: {containers: [{name: c, image: nginx}]}
            """
        let refused = try cluster.kubectl(["apply", "-f", "-"], stdin: typo)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("unknown field \"spec.replica\""), "\(refused.stderr)")
        #expect(try cluster.kubectl(["get", "statefulset", "typo"]).status != 0)
        // Kubernetes' validation of the new kinds.
        let badJob = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: bad}\nspec: {template: {spec: {containers: [{name: c, image: busybox}]}}}\n"
        let invalid = try cluster.kubectl(["apply", "-f", "-"], stdin: badJob)
        #expect(invalid.stderr.contains("spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""),
                "\(invalid.stderr)")
    }
}
