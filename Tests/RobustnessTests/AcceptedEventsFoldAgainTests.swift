import ClusterModel
import ControlPlane
import Foundation
import Journal
import NodeAgent
import Queries
import Simulation
import Testing
import TestSupport

/// The invariant every event-sourced system lives by: an event the journal accepted can always be
/// folded again. Random writes made of the validators' own boundaries (enormous, tiny, zero,
/// negative where allowed; many containers, many pods per node) go through the Store; whatever it
/// accepts, every component then runs on, every query answers about, a restarted control plane
/// folds, and every `kj` reading command prints — without a trap.
@Suite(.serialized) struct AcceptedEventsFoldAgainTests {
    @Test(.timeLimit(.minutes(10)), arguments: [UInt64(1), 2, 3])
    func everyComponentQueryAndCommandSurvivesRandomAcceptedWrites(seed: UInt64) async throws {
        let dir = TemporaryDirectory("kj-fold")
        let start = Timestamp(rfc3339: "2026-03-01T00:00:00Z")!
        var accepted = 0, refused = 0
        do {
            let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
            defer { journal.close() }
            let clock = ManualClock(start)
            let store = try await Store.open(journal: journal, clock: clock, options: Store.Options(snapshotInterval: 97, seed: seed, synchronousAppends: true))
            let nodes = ServeNodes.simulated(2)
            let kubelets = KubeletFleet(nodes: nodes, start: start)
            let driver = try Driver(store: store, components: Driver.standardComponents(seed: seed, kubelets: kubelets), kubelets: kubelets, now: { clock.now() })
            try await driver.prime()
            var generator = BoundaryWrites(seed: seed)
            for round in 0..<60 {
                for _ in 0..<5 {
                    if try await generator.write(to: store) { accepted += 1 } else { refused += 1 }
                }
                try await driver.settle()
                // Let simulated time pass: heartbeats, back-offs, grace periods, evictions.
                let next = min(driver.nextWakeup() ?? clock.now().adding(seconds: 5), clock.now().adding(seconds: round % 7 == 0 ? 120 : 5))
                clock.set(max(clock.now().adding(microseconds: 1), next))
                try await driver.settle()
            }
            await store.flushSnapshots()
            #expect(accepted > 100, "only \(accepted) writes were accepted (\(refused) refused): the generator is too timid")
            try queryEverything(journal)
        }
        // A restarted control plane folds the same journal, and its components start on it.
        do {
            let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
            defer { journal.close() }
            let clock = ManualClock(start.adding(seconds: 86_400))
            let store = try await Store.open(journal: journal, clock: clock)
            let live = await store.state
            #expect(live == (try Projection.state(of: journal)))
            let kubelets = KubeletFleet(nodes: ServeNodes.simulated(2), start: clock.now())
            let driver = try Driver(store: store, components: Driver.standardComponents(seed: store.seed, kubelets: kubelets), kubelets: kubelets, now: { clock.now() })
            try await driver.prime()
            try await driver.settle()
            clock.set(clock.now().adding(seconds: 600))
            try await driver.settle()
        }
        // Every reading command, as a user would run it, in a child process (a trap fails the test
        // instead of killing the test runner).
        try runEveryReadingCommand(on: dir.path)
    }

    /// Every query of the Queries module, over every object and a spread of revisions.
    private func queryEverything(_ journal: Journal) throws {
        try journal.read { view in
            let head = try view.head().revision
            let state = try Projection.state(in: view, at: head)
            var keys: [ObjectKey] = []
            for kind in ResourceKind.allCases { keys += state.list(kind).map(\.key) }
            for key in keys {
                _ = try? ObjectHistory.load(key, in: view)
                if key.kind == Pod.kind {
                    _ = try? PodExplanation.explain(namespace: key.namespace, name: key.name, full: true, in: view)
                }
            }
            for revision in stride(from: UInt64(1), through: head, by: max(1, Int(head / 25))) {
                let past = try Projection.state(in: view, at: revision)
                for kind in ResourceKind.allCases {
                    for stored in past.list(kind) { _ = try stored.decode(in: view) }
                }
                _ = try StateDiff.between(revision, head, in: view)
            }
            _ = try EventFilter().forEach(in: view) { header in
                if let e = try view.event(at: header.revision), let data = try? JSONValue.parse(e.data) {
                    _ = EventSummary.line(for: e, data: data)
                }
                return true
            }
        }
    }

    private func runEveryReadingCommand(on journal: String) throws {
        var commands: [[String]] = [
            ["get", "pods", "-A", "-o", "wide"], ["get", "nodes", "-o", "wide"], ["get", "deployments", "-A"], ["get", "replicasets", "-A"],
            ["get", "events", "-A"], ["get", "pods", "-A", "-o", "yaml"], ["get", "pods", "-A", "--at", "40"], ["events"], ["journal", "verify"],
            ["diff", "2"], ["diff", "30", "1s"], ["get", "pods", "--at", "-99999999999999999999s"], ["get", "pods", "--at", "99999999999999999999999"],
            ["get", "pods", "--at", "-106751991d"], ["events", "--since", "9999999999999d"],
        ]
        let listed = try runKJ(["get", "pods", "-A", "-o", "name", "--journal", journal])
        for line in listed.stdout.split(separator: "\n").prefix(40) {
            let name = String(line.split(separator: "/").last ?? "")
            commands += [["why", name, "--full"], ["history", "pod/" + name], ["describe", "pod/" + name]]
        }
        let nodes = try runKJ(["get", "nodes", "-o", "name", "--journal", journal])
        for line in nodes.stdout.split(separator: "\n") { commands.append(["describe", String(line)]) }
        for command in commands {
            let r = try runKJ(command + ["--journal", journal])
            // Exit 0, 1 with one readable line, or 64 for an argument it cannot read; never a signal
            // (a trap ends with 132/133/134/139).
            #expect([0, 1, 64].contains(r.status), "kj \(command.joined(separator: " ")) exited \(r.status): \(r.stderr.suffix(600))")
        }
    }
}

/// Nodes for the simulated kubelets of these tests.
enum ServeNodes {
    static func simulated(_ count: Int) -> [SimulatedNode] {
        (1...count).map { i in
            SimulatedNode(name: "node-\(i)", capacity: ["cpu": Quantity(4), "memory": Quantity(8 << 30, format: .binarySI), "pods": Quantity(110)], index: i)
        }
    }
}

/// Random writes built from the boundaries the validators allow: every value here is one a client
/// can send, and the Store decides whether to accept it.
struct BoundaryWrites {
    var random: SeededGenerator
    var counter = 0

    init(seed: UInt64) { random = SeededGenerator(seed: seed) }

    mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    static let quantities: [JSONValue] = [
        "0", "1m", "1n", "100m", "1", "9223372036854775807", "9223372036854775", "5000000000000000", "1e308", "8Ei", "1Ei",
        "123456789012345678901234567890", "0.000000000000000000001", "1e-400", "92233720368547758.08", "2147483647Ki",
        .int(Int64.max), .int(9_223_372_036_854_775), .double(1e308), .double(1.5e-7), .int(0), .int(4),
    ]
    static let seconds: [Int64] = [0, 1, 2, 30, 2_147_483_647, 9_223_372_036_854_775, Int64.max]
    static let annotationValues = ["1e308", "nan", "inf", "-inf", "-5", "9223372036854775807", "0.000001", "1", "abc", "3", "1e20"]

    mutating func name(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)-\(counter)"
    }

    mutating func resources() -> JSONValue {
        var requests: [String: JSONValue] = [:]
        if chance(80) { requests["cpu"] = pick(Self.quantities) }
        if chance(80) { requests["memory"] = pick(Self.quantities) }
        return .object(["requests": .object(requests), "limits": .object(chance(30) ? ["cpu": pick(Self.quantities)] : [:])])
    }

    mutating func podSpec() -> JSONValue {
        var containers: [JSONValue] = []
        for i in 0..<(chance(20) ? 40 : 1 + Int(random.next() % 3)) {
            var c: [String: JSONValue] = ["name": .string("c\(i)"), "image": .string(pick(["nginx", "busybox:1.36", "registry.example/app@sha256:abc"])), "resources": resources()]
            if chance(15) { c["ports"] = [["containerPort": 80, "hostPort": .int(pick([80, 65535, 1]))]] }
            if chance(15) { c["lifecycle"] = ["preStop": ["sleep": ["seconds": .int(pick(Self.seconds))]]] }
            containers.append(.object(c))
        }
        var spec: [String: JSONValue] = ["containers": .array(containers)]
        if chance(40) { spec["terminationGracePeriodSeconds"] = .int(pick(Self.seconds)) }
        if chance(20) { spec["activeDeadlineSeconds"] = .int(pick([1, 2_147_483_647])) }
        if chance(30) { spec["priority"] = .int(pick([Int64(Int32.min), -1, 0, Int64(Int32.max)])) }
        if chance(30) { spec["restartPolicy"] = .string(pick(["Always", "OnFailure", "Never"])) }
        if chance(40) {
            spec["tolerations"] = .array((0..<3).map { _ in
                ["key": .string(pick(["node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready", "dedicated", ""])),
                 "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": .int(pick(Self.seconds + [-1, Int64.min]))]
            })
        }
        if chance(20) { spec["nodeSelector"] = ["disk": "ssd"] }
        if chance(15) {
            spec["affinity"] = ["nodeAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": [
                ["weight": 100, "preference": ["matchExpressions": [["key": "size", "operator": "Gt", "values": ["9223372036854775807"]]]]],
            ]]]
        }
        if chance(10) { spec["nodeName"] = .string(pick(["node-1", "node-2", "big-1"])) }
        return .object(spec)
    }

    mutating func annotations() -> JSONValue {
        var a: [String: JSONValue] = [:]
        for key in ["pull-seconds", "startup-seconds", "ready-after-seconds", "exit-after-seconds", "exit-code", "stop-seconds", "prestop-seconds"] where chance(20) {
            a["sim.kubejournal.io/" + key] = .string(pick(Self.annotationValues))
        }
        if chance(10) { a["sim.kubejournal.io/ignore-sigterm"] = "true" }
        return .object(a)
    }

    mutating func pod() -> JSONValue {
        ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name("pod")), "annotations": annotations(), "labels": ["app": .string(pick(["a", "b"]))]],
         "spec": podSpec()]
    }

    mutating func node() -> JSONValue {
        let capacity: JSONValue = ["cpu": pick(Self.quantities), "memory": pick(Self.quantities), "pods": pick(["9223372036854775", "110", "0", "1"] as [JSONValue])]
        var spec: [String: JSONValue] = [:]
        if chance(40) {
            spec["taints"] = [["key": .string(pick(["dedicated", "node.kubernetes.io/unreachable"])), "effect": .string(pick(["NoSchedule", "NoExecute", "PreferNoSchedule"])),
                               "timeAdded": .string(pick(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-03-01T00:00:00Z"]))]]
        }
        if chance(20) { spec["unschedulable"] = .bool(true) }
        return ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name("big")), "labels": ["disk": "ssd", "size": .string(pick(["1", "9223372036854775807", "x"]))]],
                "spec": .object(spec),
                "status": ["capacity": capacity, "allocatable": capacity,
                           "images": [["names": ["nginx:latest", "busybox:1.36"], "sizeBytes": .int(pick([Int64.max, 0, 1 << 30]))]],
                           "conditions": [["type": "Ready", "status": .string(pick(["True", "False", "Unknown"])),
                                           "lastHeartbeatTime": .string(pick(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-03-01T00:00:00Z"]))]]]]
    }

    mutating func deployment() -> JSONValue {
        let app = name("web")
        var strategy: JSONValue = ["type": "RollingUpdate", "rollingUpdate": [
            "maxSurge": pick(["9223372036854775807%", "100%", .int(Int64(Int32.max)), 0, "25%"] as [JSONValue]),
            "maxUnavailable": pick(["100%", "0%", 1, .int(Int64(Int32.max))] as [JSONValue]),
        ]]
        if chance(20) { strategy = ["type": "Recreate"] }
        return ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(app)],
                "spec": ["replicas": .int(Int64(random.next() % 4)), "selector": ["matchLabels": ["app": .string(app)]],
                         "minReadySeconds": .int(pick([0, 1, Int64(Int32.max)])), "revisionHistoryLimit": .int(pick([0, 1, Int64(Int32.max)])),
                         "progressDeadlineSeconds": .int(pick([1, Int64(Int32.max)])), "strategy": strategy,
                         "template": ["metadata": ["labels": ["app": .string(app)], "annotations": annotations()], "spec": podSpec()]]]
    }

    /// Makes one random write; returns whether the Store accepted it.
    mutating func write(to store: Store) async throws -> Bool {
        let by = Store.Origin(.user("fuzzer"))
        do {
            switch random.next() % 10 {
            case 0, 1, 2:
                _ = try await store.create(try ResourceKind.pod.decode(pod(), strict: false), by: by)
            case 3:
                _ = try await store.create(try ResourceKind.node.decode(node(), strict: false), by: by)
            case 4:
                _ = try await store.create(try ResourceKind.deployment.decode(deployment(), strict: false), by: by)
            case 5, 6:
                // Delete something, with a grace period from the boundaries (or none).
                let pods = try await store.list(.pod, namespace: "default").items
                guard !pods.isEmpty else { return false }
                let target = pick(pods)
                _ = try await store.delete(.pod, namespace: "default", name: target.metadata.name ?? "",
                                           gracePeriodSeconds: chance(70) ? pick(Self.seconds + [-1]) : nil, by: by)
            case 7:
                // Scale or re-template a deployment.
                let deployments = try await store.list(.deployment, namespace: "default").items
                guard !deployments.isEmpty else { return false }
                let target = pick(deployments)
                let patch: JSONValue = chance(50) ? ["spec": ["replicas": .int(Int64(random.next() % 5))]]
                    : ["spec": ["template": ["spec": ["containers": [["name": "c0", "image": .string("nginx:\(random.next() % 3)")]]]]]]
                _ = try await store.patch(.deployment, namespace: "default", name: target.metadata.name ?? "", type: .strategic, body: patch, by: by)
            case 8:
                // A node's status from its (missing) kubelet: a user writing it, as kubectl could.
                let nodes = try await store.list(.node).items
                guard !nodes.isEmpty else { return false }
                let target = pick(nodes)
                let status = node()["status"]!
                _ = try await store.patch(.node, namespace: nil, name: target.metadata.name ?? "", type: .merge, body: ["status": status], status: true, by: by)
            default:
                // Bind a pending pod by hand.
                let pods = try await store.list(.pod, namespace: "default").items.filter { ($0 as? Pod)?.spec.nodeName == nil }
                guard !pods.isEmpty else { return false }
                _ = try await store.bind(namespace: "default", pod: pick(pods).metadata.name ?? "", to: pick(["node-1", "node-2", "big-1", "nowhere"]), by: by)
            }
            return true
        } catch is StatusError {
            return false
        } catch is DecodingFailure {
            return false
        }
    }
}

/// An object a controller cannot make from an accepted one is reported as kube-controller-manager
/// reports it — a Warning Event — and the controller carries on.
@Suite struct RefusedControllerWritesTests {
    @Test(.timeLimit(.minutes(5)))
    func aDeploymentWhoseReplicaSetNameIsTooLongGetsAFailedCreateEvent() async throws {
        let dir = TemporaryDirectory("kj-refused")
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        let start = Timestamp(rfc3339: "2026-03-01T00:00:00Z")!
        let clock = ManualClock(start)
        let store = try await Store.open(journal: journal, clock: clock, options: Store.Options(seed: 5, synchronousAppends: true))
        let kubelets = KubeletFleet(nodes: ServeNodes.simulated(1), start: start)
        let driver = try Driver(store: store, components: Driver.standardComponents(seed: 5, kubelets: kubelets), kubelets: kubelets, now: { clock.now() })
        try await driver.prime()
        // 250 characters: a valid Deployment name, but its ReplicaSet's name (+ "-" + a 10-character hash) is not.
        let name = String(repeating: "a", count: 250)
        let manifest: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)],
            "spec": ["replicas": 1, "selector": ["matchLabels": ["app": "long"]],
                     "template": ["metadata": ["labels": ["app": "long"]], "spec": ["containers": [["name": "c", "image": "nginx"]]]]],
        ]
        _ = try await store.create(try ResourceKind.deployment.decode(manifest), by: Store.Origin(.user("alice")))
        let short: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "short"],
            "spec": ["replicas": 1, "selector": ["matchLabels": ["app": "short"]],
                     "template": ["metadata": ["labels": ["app": "short"]], "spec": ["containers": [["name": "c", "image": "nginx"]]]]],
        ]
        _ = try await store.create(try ResourceKind.deployment.decode(short), by: Store.Origin(.user("alice")))
        driver.roundLimit = 1000
        for _ in 0..<4 {
            try await driver.settle()
            clock.set(clock.now().adding(seconds: 30))
        }
        try await driver.settle()
        let events = try await store.list(.event, namespace: "default").items.compactMap { $0 as? CoreEvent }
        let failed = try #require(events.first { $0.reason == "FailedCreate" && $0.involvedObject.name == name })
        #expect(failed.type == "Warning")
        #expect(failed.message?.hasPrefix("Failed to create new replica set \"\(name)-") == true)
        #expect(failed.message?.contains("must be no more than 253 characters") == true, "\(failed.message ?? "")")
        #expect((failed.count ?? 0) >= 2, "retried with back-off, counted on the same Event")
        // The other Deployment was not held up.
        let pods = try await store.list(.pod, namespace: "default").items
        #expect(pods.contains { ($0.metadata.name ?? "").hasPrefix("short-") })
    }
}
