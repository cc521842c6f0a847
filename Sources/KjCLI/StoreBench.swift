import ArgumentParser
import ClusterModel
import ControlPlane
import Foundation
import Journal

/// `kj bench store`: the projection and the Store's write path on a large generated journal.
struct StoreBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Fold, state-at-revision and Store write throughput on a generated journal of pod lifecycles.",
        discussion: """
            Generates a journal of pods created, bound, set Running, deleted gracefully and removed, across \
            1,000 nodes (the events the Store writes, with real defaulted pod objects), then measures: a full \
            fold from revision 1 (median of 3); state at 200 random revisions with snapshots every 5,000 events (--snapshot-every); 64 \
            concurrent writers creating pods through the Store with durable commits; and the memory of a \
            state holding 100,000 pods.
            """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Events in the generated journal.") var events = 1_000_000
    @Option(help: "Events between snapshots for the state-at measurement.") var snapshotEvery: UInt64 = 5_000
    @Option(help: ArgumentHelp("Where to create the temporary journals.", valueName: "dir")) var dir: String?

    func run() async throws {
        let root = (dir ?? NSTemporaryDirectory()) + "/kj-bench-store-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var r: [String: Double] = [:]

        // 1. Generate, then fold from revision 1.
        let journal = try Journal.open(at: root + "/lifecycle", options: JournalOptions(initialMapSize: 4 << 30, durability: .noSync))
        let generateStart = ContinuousClock.now
        try await PodLifecycleGenerator(nodes: 1000).write(events: events, into: journal)
        r["generate_seconds"] = (ContinuousClock.now - generateStart).seconds
        let head = try journal.head().revision
        r["events"] = Double(head)
        var folds: [Double] = []
        for _ in 0..<3 {
            let foldStart = ContinuousClock.now
            let folded = try Projection.state(of: journal, useSnapshots: false)
            folds.append(Double(head) / (ContinuousClock.now - foldStart).seconds)
            r["objects_at_head"] = Double(folded.count)
        }
        r["fold_per_s"] = folds.sorted()[1]

        // 2. State at random revisions, from snapshots every 10,000 events.
        let snapshotStart = ContinuousClock.now
        try await Projection.writeSnapshots(journal, every: snapshotEvery)
        r["snapshot_every"] = Double(snapshotEvery)
        r["snapshot_mb"] = Double(try journal.read { view in
            var total = 0
            var rev = snapshotEvery
            while rev <= head {
                total += try view.snapshot(atOrBefore: rev)?.bytes.count ?? 0
                rev += snapshotEvery
            }
            return total
        }) / Double(1 << 20)
        r["journal_mb"] = Double(try journal.stat().usedBytes) / Double(1 << 20)
        r["snapshot_seconds"] = (ContinuousClock.now - snapshotStart).seconds
        var rng = SplitMix(seed: 7)
        var timings: [Double] = []
        for _ in 0..<200 {
            let rev = 1 + rng.next() % head
            let t = ContinuousClock.now
            let s = try Projection.state(of: journal, at: rev)
            timings.append((ContinuousClock.now - t).seconds * 1000)
            precondition(s.revision == rev)
        }
        timings.sort()
        r["state_at_p50_ms"] = timings[timings.count / 2]
        r["state_at_p99_ms"] = timings[timings.count * 99 / 100]
        journal.close()

        // 3. 64 concurrent writers through the Store, durable.
        r["store_writes_64_per_s"] = try await concurrentCreates(dir: root + "/writes", writers: 64, each: max(1, min(events / 400, 250)))

        // 4. Memory of a state with 100,000 pods.
        r["state_100k_pods_rss_mb"] = try await memoryOf100kPods(dir: root + "/100k")

        if json {
            print(try jsonText(r.mapValues { ($0 * 1000).rounded() / 1000 }))
        } else {
            print(aligned(r.keys.sorted().map { ($0, String(format: "%.2f", r[$0]!)) }))
        }
    }

    private func concurrentCreates(dir: String, writers: Int, each: Int) async throws -> Double {
        let journal = try Journal.open(at: dir)
        defer { journal.close() }
        let store = try await Store.open(journal: journal, options: Store.Options(seed: 1))
        let template = PodLifecycleGenerator.template
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    for i in 0..<each {
                        var p = template
                        p.metadata.name = "w\(w)-\(i)"
                        _ = try await store.create(p, by: Store.Origin(.user("bench")))
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(writers * each) / (ContinuousClock.now - start).seconds
    }

    private func memoryOf100kPods(dir: String) async throws -> Double {
        let journal = try Journal.open(at: dir, options: JournalOptions(initialMapSize: 1 << 30, durability: .noSync))
        defer { journal.close() }
        try await PodLifecycleGenerator(nodes: 1000).writeCreates(pods: 100_000, into: journal)
        let before = residentBytes()
        let state = try Projection.state(of: journal, useSnapshots: false)
        let after = residentBytes()
        precondition(state.list(.pod).count == 100_000)
        return Double(after - before) / Double(1 << 20)
    }

    /// Resident anonymous memory (`RssAnon`): the journal's mapped pages, shared or not, do not
    /// count. Free heap memory is first returned to the system (glibc's `malloc_trim`), so what
    /// earlier work freed neither hides nor inflates the difference.
    private func residentBytes() -> Int {
        if let trim = dlsym(nil, "malloc_trim") {
            _ = unsafeBitCast(trim, to: (@convention(c) (Int) -> Int32).self)(0)
        }
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
              let kib = line.split(separator: " ").compactMap({ Int($0) }).first else { return 0 }
        return kib << 10
    }
}

/// Writes the events the Store writes for pods living their lives: Created (by a user), Bound (by
/// the scheduler), StatusUpdated to Running (by the kubelet), DeletionStarted (by a user),
/// Deleted (by the kubelet). About 20,000 pods are alive at any time.
struct PodLifecycleGenerator {
    let nodes: Int

    static let template: Pod = {
        var p = Pod(metadata: ObjectMeta(name: "template", namespace: "default", labels: ["app": "bench", "tier": "web"]),
                    spec: PodSpec(containers: [Container(name: "app", image: "registry.example.com/team/app:1.4.2")]))
        p.spec.containers[0].ports = [ContainerPort(containerPort: 8080, name: "http")]
        p.spec.containers[0].resources = ResourceRequirements(requests: ["cpu": Quantity(milli: 100), "memory": Quantity(128 << 20, format: .binarySI)])
        return Defaults.apply(p)
    }()

    func write(events total: Int, into journal: Journal) async throws {
        let seed: UInt64 = 1
        let t0 = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!
        var batch: [EventDraft] = []
        var rev = try journal.head().revision
        var alive: [(name: String, uid: String, pod: JSONValue, stage: Int)] = []
        var next = 0
        let encoder = ValueEncoder()
        let templateJSON = try encoder.encode(Self.template)
        func add(_ type: WriteType, _ actor: Actor, _ name: String, _ uid: String, _ data: JSONValue) {
            rev += 1
            batch.append(EventDraft(
                time: t0.adding(microseconds: Int64(rev) * 1000), type: type.rawValue, actor: actor,
                object: ObjectRef(kind: "Pod", namespace: "default", name: name, uid: uid), data: data.serialized()))
        }
        while Int(rev) < total {
            // Keep about 20,000 pods alive: create while below, otherwise advance a random pod.
            if alive.count < 20_000 {
                let name = "pod-\(next)"
                let uid = Identifiers.uid(seed: seed, revision: rev + 1)
                var pod = templateJSON
                pod["metadata"]?["name"] = .string(name)
                pod["metadata"]?["uid"] = .string(uid)
                pod["metadata"]?["creationTimestamp"] = .string(t0.adding(microseconds: Int64(rev + 1) * 1000).kubernetesTime)
                add(.created, .user("bench"), name, uid, pod)
                alive.append((name, uid, pod, 0))
                next += 1
            } else {
                let i = (next * 7919 + Int(rev)) % alive.count
                var (name, uid, pod, stage) = alive[i]
                next += 1
                switch stage {
                case 0:
                    pod["spec"]?["nodeName"] = .string("node-\(next % nodes)")
                    add(.bound, Actor(kind: "scheduler", name: "default-scheduler"), name, uid, pod)
                case 1:
                    pod["status"] = .object(["phase": .string("Running"), "podIP": .string("10.\(next % 250).\(next / 250 % 250).\(next % 200 + 2)"),
                                             "conditions": .array([.object(["type": .string("Ready"), "status": .string("True")])])])
                    add(.statusUpdated, Actor(kind: "kubelet", name: "node-\(next % nodes)"), name, uid, pod)
                case 2:
                    pod["metadata"]?["deletionTimestamp"] = .string(t0.adding(microseconds: Int64(rev) * 1000 + 30_000_000).kubernetesTime)
                    pod["metadata"]?["deletionGracePeriodSeconds"] = .int(30)
                    add(.deletionStarted, .user("bench"), name, uid, pod)
                default:
                    add(.deleted, Actor(kind: "kubelet", name: "node-\(next % nodes)"), name, uid, pod)
                    alive.swapAt(i, alive.count - 1)
                    alive.removeLast()
                    continue
                }
                alive[i] = (name, uid, pod, stage + 1)
            }
            if batch.count == 1000 {
                _ = try await journal.append(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { _ = try await journal.append(batch) }
    }

    func writeCreates(pods: Int, into journal: Journal) async throws {
        let t0 = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!
        let template = try ValueEncoder().encode(Self.template)
        var batch: [EventDraft] = []
        for i in 0..<pods {
            var pod = template
            pod["metadata"]?["name"] = .string("pod-\(i)")
            pod["metadata"]?["uid"] = .string(Identifiers.uid(seed: 2, revision: UInt64(i + 1)))
            pod["spec"]?["nodeName"] = .string("node-\(i % nodes)")
            batch.append(EventDraft(
                time: t0, type: WriteType.created.rawValue, actor: .user("bench"),
                object: ObjectRef(kind: "Pod", namespace: "default", name: "pod-\(i)", uid: pod["metadata"]!["uid"]!.stringValue!),
                data: pod.serialized()))
            if batch.count == 1000 {
                _ = try await journal.append(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { _ = try await journal.append(batch) }
    }
}

/// SplitMix64, for the benchmark's random revisions.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
