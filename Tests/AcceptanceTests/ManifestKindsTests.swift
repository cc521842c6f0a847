import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// Real manifests with kubectl 1.32 and no flags: a directory in the style of the Kubernetes
    /// tutorials (`manifests/`) holding the config, workload, storage, network and policy kinds, then
    /// kubectl's generators, `kubectl explain`, and kj's own queries on the new kinds.
    @Suite(.serialized) struct ManifestKindsTests {
        static let manifests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("manifests").path

        @Test(.timeLimit(.minutes(10)))
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
            // The DaemonSet runs on every node, the Job runs to completion.
            _ = try cluster.eventually(60, "a fluentd pod on each of the 3 nodes") {
                let nodes = try cluster.kubectl(["get", "pods", "-n", "kube-system", "-l", "name=fluentd-elasticsearch",
                                                 "--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].spec.nodeName}"]).stdout
                return Set(nodes.split(separator: " ")) == ["node-1", "node-2", "node-3"]
            }
            _ = try cluster.eventually(60, "job pi Complete") {
                try cluster.kubectl(["get", "job", "pi", "-o", "jsonpath={.status.succeeded}"]).stdout == "1"
            }
            #expect(try cluster.kubectl(["get", "jobs"]).stdout.contains("Complete"))
            // The StatefulSet comes up web-0, web-1, web-2 in order, each with its own bound claim; a
            // deleted pod comes back under its name with the same claim.
            _ = try cluster.eventually(90, "web-0, web-1 and web-2 Running with bound claims") {
                let ready = try cluster.kubectl(["get", "statefulset", "web", "-o", "jsonpath={.status.readyReplicas}"]).stdout
                let claims = try cluster.kubectl(["get", "pvc", "-o", "jsonpath={.items[*].status.phase}"]).stdout
                return ready == "3" && claims == "Bound Bound Bound"
            }
            let created = try runKJ(["events", "--kind", "pod", "--type", "Created", "--actor", "statefulset", "-o", "json", "--journal", cluster.journal])
            let order = (try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [[String: Any]] ?? []).compactMap { $0["object"] as? String }
            #expect(order == ["Pod/default/web-0", "Pod/default/web-1", "Pod/default/web-2"], "\(order)")
            let claim = try cluster.kubectl(["get", "pvc", "www-web-1", "-o", "jsonpath={.metadata.uid} {.spec.volumeName}"]).stdout
            #expect(try cluster.kubectl(["delete", "pod", "web-1"]).status == 0)
            _ = try cluster.eventually(90, "web-1 back and Ready") {
                try cluster.kubectl(["get", "pod", "web-1", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]).stdout == "True"
            }
            #expect(try cluster.kubectl(["get", "pvc", "www-web-1", "-o", "jsonpath={.metadata.uid} {.spec.volumeName}"]).stdout == claim)
            #expect(try cluster.kubectl(["get", "pod", "web-1", "-o", "jsonpath={.spec.volumes[?(@.name==\"www\")].persistentVolumeClaim.claimName}"]).stdout == "www-web-1")
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

            // Server-side apply of the same directory takes over from client-side apply without
            // changing what runs (no new generation, no new ReplicaSet); a second time it writes
            // nothing. A second manager changing a field kubectl applied is refused with the conflict,
            // and takes the field with --force-conflicts.
            let workloads = ["get", "deployments,statefulsets,daemonsets,replicasets", "-A", "-o", "jsonpath={range .items[*]}{.metadata.name}={.metadata.generation} {end}"]
            let before = try cluster.kubectl(workloads).stdout
            let serverSide = try cluster.kubectl(["apply", "--server-side", "-f", Self.manifests])
            #expect(serverSide.status == 0 && serverSide.stderr.isEmpty, "\(serverSide.stderr)")
            #expect(serverSide.stdout.contains("deployment.apps/frontend serverside-applied"), "\(serverSide.stdout)")
            #expect(try cluster.kubectl(workloads).stdout == before)
            let owners = try cluster.kubectl(["get", "deployment", "frontend", "--show-managed-fields", "-o", "jsonpath={range .metadata.managedFields[*]}{.manager}:{.operation} {end}"]).stdout
            #expect(owners.contains("kubectl:Apply") && !owners.contains("kubectl-client-side-apply"), "\(owners)")
            func userWrites() throws -> Int {
                let events = try runKJ(["events", "--actor", "user", "-o", "json", "--journal", cluster.journal]).stdout
                return (try JSONSerialization.jsonObject(with: Data(events.utf8)) as? [Any])?.count ?? -1
            }
            let writes = try userWrites()
            #expect(try cluster.kubectl(["apply", "--server-side", "-f", Self.manifests]).status == 0)
            #expect(try userWrites() == writes)

            let guestbook = try String(contentsOfFile: Self.manifests + "/guestbook.yaml", encoding: .utf8)
            let frontend = try #require(guestbook.components(separatedBy: "\n---\n").first { $0.contains("kind: Deployment") && $0.contains("name: frontend") })
            let scaled = cluster.directory.sub("frontend-5.yaml")
            try frontend.replacingOccurrences(of: "replicas: 3", with: "replicas: 5").write(toFile: scaled, atomically: true, encoding: .utf8)
            let refused = try cluster.kubectl(["apply", "--server-side", "--field-manager=autoscaler", "-f", scaled])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains(#"Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas"#), "\(refused.stderr)")
            #expect(try cluster.kubectl(["get", "deployment", "frontend", "-o", "jsonpath={.spec.replicas}"]).stdout == "3")
            let forced = try cluster.kubectl(["apply", "--server-side", "--field-manager=autoscaler", "--force-conflicts", "-f", scaled])
            #expect(forced.status == 0, "\(forced.stderr)")
            #expect(try cluster.kubectl(["get", "deployment", "frontend", "-o", "jsonpath={.spec.replicas}"]).stdout == "5")
            let replicasOwner = try cluster.kubectl(["get", "deployment", "frontend", "--show-managed-fields", "-o", "json"]).stdout
            let entries = ((try JSONSerialization.jsonObject(with: Data(replicasOwner.utf8)) as? [String: Any])?["metadata"] as? [String: Any])?["managedFields"] as? [[String: Any]] ?? []
            let owning = entries.filter { (($0["fieldsV1"] as? [String: Any])?["f:spec"] as? [String: Any])?["f:replicas"] != nil }.compactMap { $0["manager"] as? String }
            #expect(owning == ["autoscaler"], "\(entries)")

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

            // team-a's LimitRange gives pods their defaults (500m of CPU as the limit), and its quota
            // (4 CPUs of limits) holds a Deployment of 12 to 8: the ReplicaSet's further creates are
            // refused with the quota's message.
            #expect(try cluster.kubectl(["create", "deployment", "busy", "-n", "team-a", "--image=nginx", "--replicas=12"]).status == 0)
            _ = try cluster.eventually(60, "8 pods in team-a and a FailedCreate for the quota") {
                let pods = try cluster.kubectl(["get", "pods", "-n", "team-a", "--no-headers"]).stdout.split(separator: "\n").count
                let events = try cluster.kubectl(["get", "events", "-n", "team-a", "--field-selector", "reason=FailedCreate"]).stdout
                return pods == 8 && events.contains("exceeded quota: compute, requested: limits.cpu=500m, used: limits.cpu=4, limited: limits.cpu=4")
            }
            let defaults = try cluster.kubectl(["get", "pods", "-n", "team-a", "-o", "jsonpath={.items[0].spec.containers[0].resources.requests.cpu} {.items[0].metadata.annotations.kubernetes\\.io/limit-ranger}"]).stdout
            #expect(defaults.hasPrefix("100m LimitRanger plugin set: cpu, memory request for container nginx; cpu, memory limit for container nginx"), "\(defaults)")
            _ = try cluster.eventually(30, "the quota's status counts them") {
                try cluster.kubectl(["get", "resourcequota", "compute", "-n", "team-a", "-o", "jsonpath={.status.used.pods} {.status.used.requests\\.cpu}"]).stdout == "8 800m"
            }
            // Every namespace gets its default ServiceAccount, and pods run as it.
            _ = try cluster.eventually(30, "team-a's default account") {
                try cluster.kubectl(["get", "serviceaccount", "default", "-n", "team-a"]).status == 0
            }
            let podAccount = try cluster.kubectl(["get", "pods", "-l", "app=redis", "-o", "jsonpath={.items[0].spec.serviceAccountName}"]).stdout
            #expect(podAccount == "default")

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
            // Every kind survives an export and an import: the same objects, read from the copy.
            let exported = cluster.directory.sub("export.ndjson"), copy = cluster.directory.sub("copy")
            #expect(try runKJ(["journal", "export", "--journal", cluster.journal, "--file", exported]).status == 0)
            let imported = try runKJ(["journal", "import", "--journal", copy, "--file", exported])
            #expect(imported.status == 0, "\(imported.stderr)")
            let head = try runKJ(["journal", "stat", "--journal", copy, "-o", "json"]).stdout
            let revision = try #require((try JSONSerialization.jsonObject(with: Data(head.utf8)) as? [String: Any])?["headRevision"] as? Int)
            for kind in ["configmaps", "secrets", "serviceaccounts", "statefulsets", "daemonsets", "jobs", "cronjobs", "persistentvolumeclaims",
                         "persistentvolumes", "storageclasses", "endpointslices", "ingresses", "ingressclasses", "hpa", "pdb", "limitranges",
                         "resourcequotas", "leases"] {
                let at = ["--at", String(revision)]
                let original = try runKJ(["get", kind, "-A", "-o", "json", "--journal", cluster.journal] + at)
                let again = try runKJ(["get", kind, "-A", "-o", "json", "--journal", copy] + at)
                #expect(original.status == 0 && original.stdout == again.stdout, "\(kind) differs after export and import: \(again.stderr)")
            }
            let described = try runKJ(["describe", "secret", "redis-auth", "--journal", cluster.journal]).stdout
            #expect(described.contains("password:  28 bytes"), "\(described)")
            for object in ["configmap/frontend-config", "statefulset/web", "cronjob/hello", "ingress/guestbook", "pdb/frontend", "hpa/frontend",
                           "serviceaccount/default"] {
                let history = try runKJ(["history", object, "--journal", cluster.journal])
                #expect(history.status == 0 && history.stdout.contains("Created"), "kj history \(object): \(history.stdout)\(history.stderr)")
                let why = try runKJ(["why", object, "--journal", cluster.journal])
                #expect(why.status == 0 && why.stdout.contains("exists as of revision"), "kj why \(object): \(why.stdout)\(why.stderr)")
            }
            let account = try runKJ(["why", "serviceaccount/default", "-n", "team-a", "--journal", cluster.journal]).stdout
            #expect(account.contains("by controller/serviceaccount") && account.contains("namespace team-a created"), "\(account)")
        }

        @Test(.timeLimit(.minutes(10)))
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
            #expect(containers.stdout.contains("The container image."), "\(containers.stdout)")
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

        /// `kubectl drain` evicts through the Eviction API; a budget that allows no more disruptions
        /// makes it wait and retry until a replacement is ready, and `kj why` on the replacement shows
        /// the eviction and the budget.
        @Test(.timeLimit(.minutes(10)))
        func drainEvictsAndWaitsForTheDisruptionBudget() throws {
            let cluster = try ServedCluster(nodes: 2)
            #expect(try cluster.kubectl(["create", "deployment", "web", "--image=nginx", "--replicas=4"]).status == 0)
            let pdb = try cluster.kubectl(["create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=3"])
            #expect(pdb.status == 0, "\(pdb.stderr)")
            _ = try cluster.eventually(60, "4 pods Running, 2 per node, and 1 disruption allowed") {
                let nodes = try cluster.kubectl(["get", "pods", "--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].spec.nodeName}"]).stdout
                let allowed = try cluster.kubectl(["get", "pdb", "web", "-o", "jsonpath={.status.disruptionsAllowed}"]).stdout
                return nodes.split(separator: " ").filter { $0 == "node-1" }.count == 2 && nodes.split(separator: " ").count == 4 && allowed == "1"
            }
            let drain = try cluster.kubectl(["drain", "node-1", "--ignore-daemonsets", "--timeout=90s"])
            #expect(drain.status == 0, "\(drain.stdout)\(drain.stderr)")
            let output = drain.stdout + drain.stderr
            #expect(output.contains("evicting pod default/web-"))
            #expect(output.contains("(will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."), "\(output)")
            #expect(output.contains("node/node-1 drained"))
            let nodes = try cluster.kubectl(["get", "pods", "-o", "jsonpath={.items[*].spec.nodeName}"]).stdout
            #expect(nodes.split(separator: " ").allSatisfy { $0 == "node-2" }, "\(nodes)")
            // Each eviction charged the budget before the pod was marked and deleted.
            let evictions = try cluster.kj(["events", "--type", "StatusUpdated", "--kind", "poddisruptionbudget", "--actor", "admin"])
            #expect(evictions.stdout.components(separatedBy: "evicting web-").count - 1 == 2, "\(evictions.stdout)")
            let replacement = try #require(try cluster.kubectl(["get", "pods", "--sort-by=.metadata.creationTimestamp", "-o", "jsonpath={.items[-1:].metadata.name}"]).stdout
                .split(separator: " ").last.map(String.init))
            let why = try cluster.kj(["why", "pod/\(replacement)"])
            #expect(why.stdout.contains("poddisruptionbudget web: 0 disruption(s) allowed, evicting web-"), "\(why.stdout)")
            #expect(why.stdout.contains("DeletionStarted"))
        }

        /// `kubectl auth can-i` (a SelfSubjectAccessReview, sent as protobuf) and `--list` (a
        /// SelfSubjectRulesReview) answer from this server's authorisation: viewers may read and
        /// nothing else.
        @Test(.timeLimit(.minutes(10)))
        func authCanIAnswersFromOurAuthorisation() throws {
            let cluster = try ServedCluster(withViewer: true)
            let admin = try cluster.kubectl(["auth", "can-i", "delete", "deployments", "-n", "kube-system", "--token", cluster.adminToken])
            #expect(admin.status == 0 && admin.stdout == "yes\n", "\(admin.stdout)\(admin.stderr)")
            let viewerWrite = try cluster.kubectl(["auth", "can-i", "create", "pods", "--token", cluster.viewerToken])
            #expect(viewerWrite.status == 1 && viewerWrite.stdout == "no - kubejournal: members of kubejournal:viewers may only get, list and watch\n",
                    "\(viewerWrite.stdout)\(viewerWrite.stderr)")
            let viewerRead = try cluster.kubectl(["auth", "can-i", "list", "pods", "--token", cluster.viewerToken])
            #expect(viewerRead.status == 0 && viewerRead.stdout == "yes\n", "\(viewerRead.stdout)\(viewerRead.stderr)")
            // --list: a SelfSubjectRulesReview.
            let rules = try cluster.kubectl(["auth", "can-i", "--list", "--token", cluster.viewerToken])
            #expect(rules.status == 0 && rules.stdout.contains("*.*") && rules.stdout.contains("[get list watch]"), "\(rules.stdout)\(rules.stderr)")
        }

        /// `kubectl apply -f` of a `kind: List` (what `kubectl get -o yaml` of several objects
        /// writes): kubectl validates the items itself, against `/openapi/v2` as protobuf, then
        /// applies each; an unknown field in an item is its error.
        @Test(.timeLimit(.minutes(10)))
        func aListAppliesItemByItemAndKubectlValidatesItsItems() throws {
            let cluster = try ServedCluster(nodes: 1)
            let list = #"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"},"data":{"a":"b"}},"#
                + #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d1"},"spec":{"selector":{"matchLabels":{"a":"b"}},"#
                + #""template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}]}"#
            let applied = try cluster.kubectl(["apply", "-f", "-"], stdin: list)
            #expect(applied.status == 0 && applied.stdout == "configmap/c1 created\ndeployment.apps/d1 created\n", "\(applied.stdout)\(applied.stderr)")
            let bogus = #"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c2"},"bogus":1}]}"#
            let refused = try cluster.kubectl(["apply", "-f", "-"], stdin: bogus)
            #expect(refused.status != 0 && refused.stderr.contains(#"unknown field "bogus" in io.k8s.api.core.v1.ConfigMap"#), "\(refused.stderr)")
            #expect(try cluster.kubectl(["get", "configmap", "c2"]).status != 0)
            // Others still read the document as JSON.
            let json = try cluster.curl("GET", "/openapi/v2", token: cluster.adminToken)
            #expect(json.code == 200 && json.body.hasPrefix("{"))
        }

        /// `kubectl delete --cascade=orphan` leaves the dependents, released; `--cascade=foreground`
        /// keeps the owner Terminating until its dependents (and theirs) are gone.
        @Test(.timeLimit(.minutes(10)))
        func orphanAndForegroundDeletion() throws {
            let cluster = try ServedCluster(nodes: 2)
            for name in ["kept", "gone"] {
                #expect(try cluster.kubectl(["create", "deployment", name, "--image=nginx", "--replicas=2"]).status == 0)
            }
            _ = try cluster.eventually(60, "4 pods Running") {
                try cluster.kubectl(["get", "pods", "--field-selector=status.phase=Running", "--no-headers"]).stdout.split(separator: "\n").count == 4
            }
            #expect(try cluster.kubectl(["delete", "deployment", "kept", "--cascade=orphan"]).status == 0)
            _ = try cluster.eventually(30, "the ReplicaSet released") {
                try cluster.kubectl(["get", "deployment", "kept"]).status != 0
                    && (try cluster.kubectl(["get", "rs", "-l", "app=kept", "-o", "jsonpath={.items[*].metadata.ownerReferences}"]).stdout.isEmpty)
            }
            #expect(try cluster.kubectl(["get", "pods", "-l", "app=kept", "--no-headers"]).stdout.split(separator: "\n").count == 2)

            #expect(try cluster.kubectl(["delete", "deployment", "gone", "--cascade=foreground", "--wait=false"]).status == 0)
            let held = try cluster.kubectl(["get", "deployment", "gone", "-o", "jsonpath={.metadata.finalizers}"])
            #expect(held.status != 0 || held.stdout.contains("foregroundDeletion"), "\(held.stdout)")
            _ = try cluster.eventually(60, "the Deployment, its ReplicaSet and pods gone") {
                try cluster.kubectl(["get", "deployment", "gone"]).status != 0
                    && (try cluster.kubectl(["get", "pods", "-l", "app=gone", "--no-headers"]).stdout.isEmpty)
            }
            // The owner went last: after every pod of its ReplicaSet.
            let removed = try cluster.kj(["events", "--type", "Deleted", "-o", "json"]).stdout
            let order = (try JSONSerialization.jsonObject(with: Data(removed.utf8)) as? [[String: Any]] ?? []).compactMap { $0["object"] as? String }
                .filter { $0.contains("/gone") }
            #expect(order.last == "Deployment/default/gone" && order.dropLast().last?.hasPrefix("ReplicaSet/default/gone-") == true, "\(order)")
        }
    }
}
