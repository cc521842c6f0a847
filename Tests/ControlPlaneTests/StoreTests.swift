import ClusterModel
import ControlPlane
import Foundation
import Journal
import Testing
import TestSupport

/// A Store on a fresh journal in its own directory, on a manual clock.
struct Fixture {
    let dir = TemporaryDirectory()
    let journal: Journal
    let clock = ManualClock()
    let store: Store

    init(seed: UInt64 = 42, snapshotInterval: UInt64 = 10_000, watchCacheSize: Int = 10_000) async throws {
        journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        store = try await Store.open(journal: journal, clock: clock,
                                     options: Store.Options(snapshotInterval: snapshotInterval, seed: seed, watchCacheSize: watchCacheSize))
    }

    func head() throws -> UInt64 { try journal.head().revision }
}

let alice = Store.Origin(.user("alice"))

func pod(_ name: String, namespace: String? = nil, labels: [String: String]? = nil, image: String = "nginx:1.27") -> Pod {
    Pod(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels), spec: PodSpec(containers: [Container(name: "c", image: image)]))
}

@Suite struct StoreWriteTests {
    @Test func aNewJournalStartsWithTheSeedAndKubeApiserversNamespaces() async throws {
        let f = try await Fixture(seed: 7)
        #expect(try f.head() == 5)
        let first = try #require(try f.journal.event(at: 1))
        #expect(first.type == ClusterEventType.initialized)
        #expect(f.store.seed == 7)
        let namespaces = try await f.store.list(.namespace).items.map { $0.metadata.name }
        #expect(namespaces == ["default", "kube-node-lease", "kube-public", "kube-system"])
    }

    @Test func createAppendsOneEventAndReturnsItsRevision() async throws {
        let f = try await Fixture()
        let created = try await f.store.create(pod("nginx", labels: ["app": "web"]), by: Store.Origin(.user("alice"), request: "req-1"))
        let event = try #require(try f.journal.event(at: try f.head()))
        #expect(created.metadata.resourceVersion == String(event.revision))
        #expect(event.type == "Created")
        #expect(event.actor == .user("alice"))
        #expect(event.request == "req-1")
        #expect(event.object == ObjectRef(kind: "Pod", namespace: "default", name: "nginx", uid: created.metadata.uid!))
        // The stored object is the defaulted pod, without resourceVersion (it is the event's revision).
        let stored = try JSONValue.parse(event.data)
        #expect(stored["metadata"]?["resourceVersion"] == nil)
        #expect(stored["spec"]?["restartPolicy"]?.stringValue == "Always")
        #expect(created.metadata.creationTimestamp == "2026-01-01T00:00:00Z")
        #expect(try await f.store.get(Pod.self, namespace: "default", name: "nginx") == created)
    }

    @Test func generateNameAndUidsAreDeterministic() async throws {
        var names: [[String]] = []
        for _ in 0..<2 {
            let f = try await Fixture(seed: 99)
            var p = pod("")
            p.metadata.name = nil
            p.metadata.generateName = "web-"
            let a = try await f.store.create(p, by: alice)
            let b = try await f.store.create(p, by: alice)
            names.append([a.metadata.name!, b.metadata.name!, a.metadata.uid!, b.metadata.uid!])
            #expect(a.metadata.name!.hasPrefix("web-") && a.metadata.name!.count == 9)
        }
        #expect(names[0] == names[1])
        #expect(names[0][0] != names[0][1])
    }

    @Test func failedWritesAppendNothingAndSayWhy() async throws {
        let f = try await Fixture()
        _ = try await f.store.create(pod("nginx"), by: alice)
        let head = try f.head()
        await #expect(throws: StatusError(.alreadyExists, "pods \"nginx\" already exists", name: "nginx", group: "", kind: "pods")) {
            try await f.store.create(pod("nginx"), by: alice)
        }
        let missing = await #expect(throws: StatusError.self) { try await f.store.create(pod("x", namespace: "nope"), by: alice) }
        #expect(missing?.message == "namespaces \"nope\" not found")
        let notFound = await #expect(throws: StatusError.self) { try await f.store.delete(.pod, namespace: "default", name: "ghost", by: alice) }
        #expect(notFound?.reason == .notFound && notFound?.message == "pods \"ghost\" not found")
        #expect(try f.head() == head)
    }

    @Test func optimisticConcurrencyLetsExactlyOneOfTwoUpdatesWin() async throws {
        let f = try await Fixture()
        let base = try await f.store.create(pod("nginx", labels: ["v": "0"]), by: alice)
        var a = base, b = base
        a.metadata.labels = ["v": "a"]
        b.metadata.labels = ["v": "b"]
        func attempt(_ p: Pod) async -> Result<Pod, StatusError> {
            do { return .success(try await f.store.update(p, by: alice)) } catch { return .failure(error) }
        }
        async let ra = attempt(a)
        async let rb = attempt(b)
        let results = await [ra, rb]
        let wins = results.compactMap { try? $0.get() }
        let conflicts = results.compactMap { r -> StatusError? in if case .failure(let e) = r { e } else { nil } }
        #expect(wins.count == 1)
        #expect(conflicts.count == 1)
        #expect(conflicts.first?.reason == .conflict)
        #expect(conflicts.first?.message == "Operation cannot be fulfilled on pods \"nginx\": the object has been modified; please apply your changes to the latest version and try again")
        // Nothing is lost: the winner's label is what is stored, and the loser can retry from it.
        let now = try await f.store.get(Pod.self, namespace: "default", name: "nginx")
        #expect(now.metadata.labels == wins[0].metadata.labels)
        var retry = now
        retry.metadata.labels?["retried"] = "yes"
        _ = try await f.store.update(retry, by: alice)
        #expect(try await f.store.get(Pod.self, name: "nginx").metadata.labels?["retried"] == "yes")
    }

    @Test func anUpdateThatChangesNothingAppendsNothing() async throws {
        let f = try await Fixture()
        let p = try await f.store.create(pod("nginx"), by: alice)
        let head = try f.head()
        let same = try await f.store.update(p, by: alice)
        #expect(same.metadata.resourceVersion == p.metadata.resourceVersion)
        #expect(try f.head() == head)
    }

    @Test func updateKeepsStatusAndStatusUpdateKeepsSpec() async throws {
        let f = try await Fixture()
        var p = try await f.store.create(pod("nginx"), by: alice)
        p.status = PodStatus(phase: "Running")
        let s = try await f.store.updateStatus(p, by: alice)
        #expect(s.status?.phase == "Running")
        #expect(try f.journal.event(at: try f.head())?.type == "StatusUpdated")
        var u = s
        u.status = PodStatus(phase: "Failed")
        u.spec.containers[0].image = "nginx:1.28"
        let after = try await f.store.update(u, by: alice)
        #expect(after.status?.phase == "Running")
        #expect(after.spec.containers[0].image == "nginx:1.28")
        var forbidden = after
        forbidden.spec.restartPolicy = "Never"
        let e = await #expect(throws: StatusError.self) { try await f.store.update(forbidden, by: alice) }
        #expect(e?.message.hasPrefix("Pod \"nginx\" is invalid: spec: Forbidden: pod updates may not change fields") == true)
    }

    @Test func bindSetsTheNodeOnceAndTheConditionTrue() async throws {
        let f = try await Fixture()
        _ = try await f.store.create(pod("nginx"), by: alice)
        let bound = try await f.store.bind(namespace: "default", pod: "nginx", to: "node-1", by: Store.Origin(Actor(kind: "scheduler", name: "default-scheduler"), cause: 4))
        #expect(bound.spec.nodeName == "node-1")
        #expect(bound.condition("PodScheduled")?.status == "True")
        let event = try #require(try f.journal.event(at: try f.head()))
        #expect(event.type == "Bound" && event.cause == 4)
        let again = await #expect(throws: StatusError.self) { try await f.store.bind(namespace: "default", pod: "nginx", to: "node-2", by: alice) }
        #expect(again?.message == "Operation cannot be fulfilled on pods/binding \"nginx\": pod nginx is already assigned to node \"node-1\"")
    }

    @Test func deletionIsGracefulForBoundPodsAndImmediateOtherwise() async throws {
        let f = try await Fixture()
        _ = try await f.store.create(pod("pending"), by: alice)
        _ = try await f.store.create(pod("running"), by: alice)
        _ = try await f.store.bind(namespace: "default", pod: "running", to: "node-1", by: alice)

        _ = try await f.store.delete(.pod, namespace: "default", name: "pending", by: alice)
        #expect(try f.journal.event(at: try f.head())?.type == "Deleted")
        await #expect(throws: StatusError.self) { try await f.store.get(.pod, namespace: "default", name: "pending") }

        let terminating = try await f.store.delete(.pod, namespace: "default", name: "running", by: alice)
        #expect(try f.journal.event(at: try f.head())?.type == "DeletionStarted")
        #expect(terminating.metadata.deletionGracePeriodSeconds == 30)
        #expect(terminating.metadata.deletionTimestamp == "2026-01-01T00:00:30Z")
        #expect(try await f.store.get(.pod, namespace: "default", name: "running").metadata.deletionTimestamp != nil)

        _ = try await f.store.delete(.pod, namespace: "default", name: "running", gracePeriodSeconds: 0, by: alice)
        #expect(try f.journal.event(at: try f.head())?.type == "Deleted")
    }

    @Test func finalizersHoldDeletionUntilRemoved() async throws {
        let f = try await Fixture()
        var svc = Service(metadata: ObjectMeta(name: "web"), spec: ServiceSpec(selector: ["app": "web"], ports: [ServicePort(port: 80)]))
        svc.metadata.finalizers = ["example.com/hold"]
        _ = try await f.store.create(svc, by: alice)
        _ = try await f.store.delete(.service, namespace: "default", name: "web", by: alice)
        var held = try await f.store.get(Service.self, name: "web")
        #expect(held.metadata.deletionTimestamp != nil)
        held.metadata.finalizers = []
        _ = try await f.store.update(held, by: alice)
        #expect(try f.journal.event(at: try f.head())?.type == "Deleted")
    }

    /// Kubernetes' namespace lifecycle at the Store: deletion makes it Terminating, nothing new may
    /// be created in it, and it goes only when finalized empty. The system namespaces stay.
    @Test func aDeletedNamespaceIsTerminatingUntilFinalizedEmpty() async throws {
        let f = try await Fixture()
        _ = try await f.store.create(Namespace(name: "team"), by: alice)
        _ = try await f.store.create(pod("p", namespace: "team"), by: alice)
        let terminating = try await f.store.delete(.namespace, namespace: nil, name: "team", by: alice) as? Namespace
        #expect(terminating?.status?.phase == "Terminating" && terminating?.metadata.deletionTimestamp != nil)
        let refused = await #expect(throws: StatusError.self) { try await f.store.create(pod("q", namespace: "team"), by: alice) }
        #expect(refused?.reason == .forbidden)
        #expect(refused?.message == "pods \"q\" is forbidden: unable to create new content in namespace team because it is being terminated")
        let early = await #expect(throws: StatusError.self) { try await f.store.finalizeNamespace("team", by: alice) }
        #expect(early?.reason == .conflict)
        _ = try await f.store.delete(.pod, namespace: "team", name: "p", by: alice)
        try await f.store.finalizeNamespace("team", by: alice)
        #expect(try await f.store.list(.namespace).items.count == 4)
        for system in ["default", "kube-system", "kube-public"] {
            let kept = await #expect(throws: StatusError.self) { try await f.store.delete(.namespace, namespace: nil, name: system, by: alice) }
            #expect(kept?.reason == .forbidden)
            #expect(kept?.message == "namespaces \"\(system)\" is forbidden: this namespace may not be deleted")
        }
    }

    @Test func patchesOfAllThreeKinds() async throws {
        let f = try await Fixture()
        var p = pod("nginx", labels: ["a": "1"])
        p.spec.containers.append(Container(name: "side", image: "busybox:1"))
        _ = try await f.store.create(p, by: alice)
        let merged = try await f.store.patch(.pod, namespace: "default", name: "nginx", type: .merge,
                                             body: try JSONValue.parse(#"{"metadata":{"labels":{"b":"2"}}}"#), by: alice)
        #expect(merged.metadata.labels == ["a": "1", "b": "2"])
        let strategic = try await f.store.patch(.pod, namespace: "default", name: "nginx", type: .strategic,
                                                body: try JSONValue.parse(#"{"spec":{"containers":[{"name":"side","image":"busybox:2"}]}}"#), by: alice) as! Pod
        #expect(strategic.spec.containers.map { $0.image } == ["nginx:1.27", "busybox:2"])
        let json = try await f.store.patch(.pod, namespace: "default", name: "nginx", type: .json,
                                           body: try JSONValue.parse(#"[{"op":"remove","path":"/metadata/labels/a"}]"#), by: alice)
        #expect(json.metadata.labels == ["b": "2"])
        let status = try await f.store.patch(.pod, namespace: "default", name: "nginx", type: .merge,
                                             body: try JSONValue.parse(#"{"status":{"phase":"Running"}}"#), status: true, by: alice) as! Pod
        #expect(status.status?.phase == "Running")
        let stale = await #expect(throws: StatusError.self) {
            try await f.store.patch(.pod, namespace: "default", name: "nginx", type: .merge,
                                    body: try! JSONValue.parse(#"{"metadata":{"resourceVersion":"1","labels":{"c":"3"}}}"#), by: alice)
        }
        #expect(stale?.reason == .conflict)
    }

    @Test func dryRunChecksEverythingAndAppendsNothing() async throws {
        let f = try await Fixture()
        let head = try f.head()
        let p = try await f.store.create(pod("nginx"), by: alice, dryRun: true)
        #expect(p.metadata.uid != nil)
        #expect(try f.head() == head)
        await #expect(throws: StatusError.self) { try await f.store.create(pod("Bad_Name"), by: alice, dryRun: true) }
    }

    @Test func listsFilterPageAndStayConsistent() async throws {
        let f = try await Fixture()
        for i in 0..<10 { _ = try await f.store.create(pod("p\(i)", labels: ["tier": i % 2 == 0 ? "web" : "db"]), by: alice) }
        let web = try await f.store.list(.pod, namespace: "default", labelSelector: "tier=web")
        #expect(web.items.map { $0.metadata.name! } == ["p0", "p2", "p4", "p6", "p8"])
        let page1 = try await f.store.list(.pod, namespace: "default", limit: 4)
        #expect(page1.items.count == 4)
        // Writes between pages do not change what the later pages show.
        _ = try await f.store.create(pod("p45"), by: alice)
        _ = try await f.store.delete(.pod, namespace: "default", name: "p9", by: alice)
        let page2 = try await f.store.list(.pod, namespace: "default", limit: 4, continue: page1.continueToken)
        let page3 = try await f.store.list(.pod, namespace: "default", limit: 4, continue: page2.continueToken)
        #expect(page2.revision == page1.revision)
        #expect((page1.items + page2.items + page3.items).map { $0.metadata.name! } == (0..<10).map { "p\($0)" })
        #expect(page3.continueToken == nil)
        let bad = await #expect(throws: StatusError.self) { try await f.store.list(.pod, fieldSelector: "spec.bogus=1") }
        #expect(bad?.message == "field label not supported: spec.bogus")
    }
}

/// Manifests with mistakes: each must fail with the field path and message Kubernetes gives, and
/// leave the journal as it was.
@Suite struct BadManifestTests {
    static let cases: [(String, String)] = [
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, image: x}]}",
         "Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {}\nspec: {containers: [{name: c, image: x}]}",
         "metadata.name: Required value: name or generateName is required"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}", "spec.containers: Required value"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}", "spec.containers[0].image: Required value"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}, {name: c, image: y}]}",
         "spec.containers[1].name: Duplicate value: \"c\""),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: Web, image: x}]}", "spec.containers[0].name: Invalid value: \"Web\""),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {restartPolicy: Sometimes, containers: [{name: c, image: x}]}",
         "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"Never\", \"OnFailure\""),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x, ports: [{containerPort: 70000}]}]}",
         "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x, resources: {requests: {cpu: \"-1\"}}}]}",
         "spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x, resources: {requests: {cpu: 2}, limits: {cpu: 1}}}]}",
         "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {terminationGracePeriodSeconds: -5, containers: [{name: c, image: x}]}",
         "spec.terminationGracePeriodSeconds: Invalid value: -5: must be greater than or equal to 0"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {tolerations: [{key: k, operator: Maybe}], containers: [{name: c, image: x}]}",
         "spec.tolerations[0].operator: Unsupported value: \"Maybe\": supported values: \"Equal\", \"Exists\""),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {tolerations: [{key: k, operator: Exists, value: v}], containers: [{name: c, image: x}]}",
         "spec.tolerations[0].operator: Invalid value: \"Exists\": value must be empty when `operator` is 'Exists'"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {\"bad key!\": x}}\nspec: {containers: [{name: c, image: x}]}",
         "metadata.labels: Invalid value: \"bad key!\""),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In}]}]}}}, containers: [{name: c, image: x}]}",
         "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"),
        ("apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec: {taints: [{key: k, effect: Sometimes}]}",
         "spec.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\""),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1, selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c, image: x}]}}}",
         "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"b\"}: `selector` does not match template `labels`"),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: -1, selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: x}]}}}",
         "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}, selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: x}]}}}",
         "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"),
        ("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec: {selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}, spec: {restartPolicy: Never, containers: [{name: c, image: x}]}}}",
         "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\nspec: {ports: [{port: 80}]}",
         "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character"),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}}", "spec.ports: Required value"),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}, {port: 81}]}", "spec.ports[0].name: Required value"),
        ("apiVersion: v1\nkind: Namespace\nmetadata: {name: Team.A}", "metadata.name: Invalid value: \"Team.A\": a lowercase RFC 1123 label"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x, imagePullPolicy: Sometimes}]}",
         "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\""),
    ]

    @Test(arguments: cases)
    func isRefusedWithTheFieldAndMessageAndAppendsNothing(yaml: String, expected: String) async throws {
        let f = try await Fixture()
        let head = try f.head()
        let object = try #require(try Manifest.objects(yaml).first)
        let error = await #expect(throws: StatusError.self) { try await f.store.create(object, by: alice) }
        #expect(error?.reason == .invalid)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
        #expect(try f.head() == head)
    }

    @Test func eachCaseIsAnotherKindOfMistake() {
        #expect(Self.cases.count >= 20)
        #expect(Set(Self.cases.map(\.1)).count == Self.cases.count)
    }
}

/// What an update or patch may not change, refused as kube-apiserver refuses it, with the journal
/// unchanged.
@Suite struct ImmutableFieldTests {
    @Test func aPatchMayNotRenameOrMoveAnObject() async throws {
        let f = try await Fixture()
        _ = try await f.store.create(pod("web"), by: alice)
        let head = try f.head()
        let rename: JSONValue = [["op": "replace", "path": "/metadata/name", "value": "other"]]
        let renamed = await #expect(throws: StatusError.self) {
            try await f.store.patch(.pod, namespace: "default", name: "web", type: .json, body: rename, by: alice)
        }
        #expect(renamed?.reason == .badRequest)
        #expect(renamed?.message == "the name of the object (other) does not match the name on the URL (web)")
        let moved = await #expect(throws: StatusError.self) {
            try await f.store.patch(.pod, namespace: "default", name: "web", type: .merge, body: ["metadata": ["namespace": "kube-system"]], by: alice)
        }
        #expect(moved?.message == "the namespace of the object (kube-system) does not match the namespace on the request (default)")
        let uid = await #expect(throws: StatusError.self) {
            try await f.store.patch(.pod, namespace: "default", name: "web", type: .merge, body: ["metadata": ["uid": "another"]], by: alice)
        }
        #expect(uid?.reason == .conflict)
        #expect(try f.head() == head)
    }

    @Test func aBoundPodKeepsItsNode() async throws {
        let f = try await Fixture()
        _ = try await f.store.create(pod("web"), by: alice)
        _ = try await f.store.bind(namespace: "default", pod: "web", to: "node-1", by: alice)
        let head = try f.head()
        let moved = await #expect(throws: StatusError.self) {
            try await f.store.patch(.pod, namespace: "default", name: "web", type: .merge, body: ["spec": ["nodeName": "node-2"]], by: alice)
        }
        #expect(moved?.reason == .invalid)
        #expect(moved?.message.contains("spec: Forbidden: pod updates may not change fields other than") == true)
        #expect(try f.head() == head)
    }
}

/// A journal without room behaves like etcd's NOSPACE alarm: writes are refused with a clear
/// Status, reads go on, and nothing acknowledged is lost or half-written.
@Suite struct OutOfSpaceTests {
    @Test(.timeLimit(.minutes(5)))
    func aFullJournalRefusesWritesWith507AndKeepsServingReads() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(initialMapSize: 256 << 10, maxMapSize: 512 << 10, durability: .noSync))
        defer { journal.close() }
        let store = try await Store.open(journal: journal, clock: ManualClock(), options: Store.Options(seed: 1, spaceRetryInterval: .zero))
        var acknowledged: [String: String] = [:]
        var refusal: StatusError?
        for i in 0..<10_000 {
            do {
                let created = try await store.create(pod("p\(i)", image: String(repeating: "x", count: 200)), by: alice)
                acknowledged[created.metadata.name!] = created.metadata.resourceVersion!
            } catch {
                refusal = error
                break
            }
        }
        let first = try #require(refusal, "the journal never filled up")
        #expect(first.reason == .insufficientStorage)
        #expect(first.message.hasPrefix("the journal has no space left: writes are refused until space is freed, reads go on"))
        #expect(store.spaceAlarm.isRaised)
        #expect(acknowledged.count > 20)
        // Concurrent writers are all refused; none latches the Store into "restart to recover".
        let reasons = await withTaskGroup(of: String.self) { group in
            for i in 0..<16 {
                group.addTask { do { _ = try await store.create(pod("late\(i)"), by: alice); return "created" } catch let e as StatusError { return e.reason.rawValue } catch { return "\(error)" } }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(reasons) == ["InsufficientStorage"])
        // Reads go on, and every acknowledged write is there at its revision.
        let listed = try await store.list(.pod, namespace: "default").items
        #expect(listed.count == acknowledged.count)
        for p in listed { #expect(acknowledged[p.metadata.name!] == p.metadata.resourceVersion) }
        let live = await store.state
        #expect(live == (try Projection.state(of: journal)))
        #expect(try journal.head().revision == live.revision)
    }
}
