import ArgumentParser
import ClusterModel
import ControlPlane
import Foundation
import Journal
import Queries
import Simulation

/// `kj bench queries`: the read side — why, history, get --at, events and diff — on a large
/// simulated journal, each query computing what its command prints.
struct QueriesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queries",
        abstract: "kj why, history, get --at, events and diff on a simulated journal of 1,000,000 events, against a bare scan.",
        discussion: """
            The journal is a scenario in virtual time with every component (scheduler, controllers, simulated \
            kubelets): ten Deployments rolled to a new image one after another, again and again, so pods are \
            created, scheduled, started, deleted gracefully and removed, each with about 20 events in its \
            history. --journal reuses a journal (one an earlier run left there, or any other); when the \
            directory is missing or empty, the journal is simulated into it and kept. Each query computes what \
            its command prints, rendering included: why_*: kj why of a random pod placed at the head; history_*: \
            kj history of a random pod; get_at_*: kj get pods --at a random revision (state from the nearest \
            snapshot, each pod's columns read in place from its stored JSON, the table); get_at_decoded_*: the same \
            revisions with every pod decoded into the typed model first (the baseline, which must print the same table); diff_*: kj diff between a random revision and 1,000 events \
            later. Each has its p50, p99 and maximum wall time, and the p99 of the CPU time its thread used \
            (*_p99_cpu_ms), which leaves out waiting for a CPU on a busy machine. events_filter_per_s: events a kj events --actor X --type Y filter looks at per second over the \
            whole journal (the median of 5), against scan_per_s, a bare scan of the same events' headers. \
            get_all_*: kj get pods -A at the head of a second journal of --head-pods running pods (copies of one \
            pod of the first, in 100 namespaces), in this process and as a command, against decoding every pod.
            """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Events in the simulated journal (about: the scenario is sized to reach it).") var events = 1_000_000
    @Option(help: "Pods alive in the simulated cluster (default: events ÷ 200, at most 5,000).") var pods: Int?
    @Option(help: "Queries of each kind (half as many get --at, a fifth as many diff); the p50, p99 and maximum are reported.") var samples = 500
    @Option(help: "Seed of the simulation and of the random choices of pods and revisions.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Use (or simulate into, and keep) the journal in this directory.", valueName: "dir")) var journal: String?
    @Option(help: ArgumentHelp("Where to create the temporary journal.", valueName: "dir")) var dir: String?
    @Option(help: "Running pods in the journal of the kj get pods -A measurement (0: skip it).") var headPods = 150_000

    /// Deployments rolled in turn; the pods are in the default namespace.
    static let deployments = 10
    /// `kj events --actor … --type …`: what the scenario's user changed.
    static let filterActor = "ops", filterType = "Updated"
    /// `kj diff REV REV+span`.
    static let diffSpan: UInt64 = 1_000

    func run() async throws {
        var r: [String: Double] = [:]
        var temporary: String?
        let path: String
        if let journal {
            path = journal
        } else {
            path = (dir ?? NSTemporaryDirectory()) + "/kj-bench-queries-\(getpid())"
            temporary = path
        }
        defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
        if let seconds = try await Self.simulateChurn(into: path, events: events, pods: pods, seed: seed) { r["generate_seconds"] = seconds }
        let reader = try Journal.open(at: path, options: .reader)
        defer { reader.close() }
        let head = try reader.head().revision
        guard head > Self.diffSpan else { throw CLIError("the journal at \(path) has only \(head) events") }
        r["events"] = Double(head)
        r["journal_mb"] = Double(try reader.stat().usedBytes) / Double(1 << 20)
        var rng = SplitMix(seed: seed)
        let n = max(1, samples)

        // Which pods: placed at the head (for why), and any pod the journal has seen (for history).
        let (placed, everPods) = try reader.read { view -> ([String], [String]) in
            let state = try Projection.state(in: view, at: head, only: [.pod])
            let placed = state.list(.pod, namespace: "default").filter { $0.nodeName != nil }.map(\.key.name)
            return (placed, try view.objectKeys(kind: Pod.kind, namespace: "default").map(\.name))
        }
        guard !placed.isEmpty, !everPods.isEmpty else { throw CLIError("the journal at \(path) has no placed pods in namespace default") }
        r["pods_placed_at_head"] = Double(placed.count)
        r["pods_in_journal"] = Double(everPods.count)


        progress("kj why: \(n) random placed pods")
        var causes: [Double] = []
        r.merge(try measure(n, "why") {
            let name = placed[Int(rng.next() % UInt64(placed.count))]
            let x = try reader.read { view in try PodExplanation.explain(namespace: "default", name: name, in: view) }
            guard x.status == .placed else { throw CLIError("pod \(name) is \(x.status), not placed") }
            causes.append(Double(x.causes.count))
            return Why.render(x).utf8.count
        }) { $1 }
        r["why_causes_p50"] = Self.percentile(causes.sorted(), 50)

        progress("kj history: \(n) random pods")
        var entries: [Double] = [], own: [Double] = []
        r.merge(try measure(n, "history") {
            let name = everPods[Int(rng.next() % UInt64(everPods.count))]
            let h = try reader.read { view in try ObjectHistory.load(ObjectKey(kind: Pod.kind, namespace: "default", name: name), in: view) }
            entries.append(Double(h.entries.count))
            own.append(Double(h.entries.count(where: { $0.role == .object })))
            return History.render(h).utf8.count
        }) { $1 }
        r["history_entries_p50"] = Self.percentile(entries.sorted(), 50)
        r["history_own_events_p50"] = Self.percentile(own.sorted(), 50)

        let revisions = (0..<max(1, n / 2)).map { _ in 1 + rng.next() % head }
        progress("kj get pods --at: \(revisions.count) random revisions, rows read in place, then the same with every pod decoded")
        var listed: [Double] = [], tables: [String] = []
        var next = revisions.makeIterator()
        r.merge(try measure(revisions.count, "get_at") {
            let rev = next.next()!
            let (_, rows) = try reader.read { view in try Get.rows(.pod, namespace: "default", at: rev, in: view) }
            listed.append(Double(rows.count))
            // An empty list prints "No resources found" instead of a table.
            tables.append(rows.isEmpty ? "-" : Get.table(.pod, rows, namespace: "default", wide: true))
            return tables.last!.utf8.count
        }) { $1 }
        r["get_at_pods_p50"] = Self.percentile(listed.sorted(), 50)
        next = revisions.makeIterator()
        var expected = tables.makeIterator()
        r.merge(try measure(revisions.count, "get_at_decoded") {
            let rev = next.next()!
            let (state, pods) = try reader.read { view in try Get.select(.pod, namespace: "default", at: rev, in: view) }
            let table = pods.isEmpty ? "-" : Get.table(.pod, Get.Listed.objects(pods).rows(.pod, at: state.time), namespace: "default", wide: true)
            guard table == expected.next() else { throw CLIError("kj get pods --at \(rev): the rows read in place differ from the decoded pods'") }
            return table.utf8.count
        }) { $1 }
        r["get_at_decoded_over_in_place_p50"] = r["get_at_decoded_p50_ms"]! / r["get_at_p50_ms"]!

        progress("kj diff REV REV+\(Self.diffSpan): \(max(1, n / 5)) random revisions")
        var changed: [Double] = []
        r.merge(try measure(max(1, n / 5), "diff") {
            let from = 1 + rng.next() % (head - Self.diffSpan)
            let d = try reader.read { view in try StateDiff.between(from, from + Self.diffSpan, in: view) }
            changed.append(Double(d.added.count + d.removed.count + d.modified.count))
            return Diff.render(d).utf8.count
        }) { $1 }
        r["diff_objects_p50"] = Self.percentile(changed.sorted(), 50)

        progress("kj events --actor \(Self.filterActor) --type \(Self.filterType) over \(head) events, against a bare scan (5 rounds)")
        var filterRates: [Double] = [], scanRates: [Double] = []
        var matched = 0
        for _ in 0..<5 {
            let scanStart = ContinuousClock.now
            let scanned = try reader.read { view in
                var count = 0
                try view.forEachHeader(in: 1...head) { _ in count += 1; return true }
                return count
            }
            scanRates.append(Double(scanned) / (ContinuousClock.now - scanStart).seconds)
            let (looked, rows) = try Self.filteredEvents(reader)
            filterRates.append(Double(looked) / rows.seconds)
            matched = rows.count
        }
        r["events_filter_per_s"] = Self.percentile(filterRates.sorted(), 50)
        r["scan_per_s"] = Self.percentile(scanRates.sorted(), 50)
        r["events_filter_over_scan"] = r["events_filter_per_s"]! / r["scan_per_s"]!
        r["events_filter_matches"] = Double(matched)

        if headPods > 0 {
            let template = try reader.read { view -> JSONValue in
                let state = try Projection.state(in: view, at: head, only: [.pod])
                guard let pod = state.list(.pod).first(where: { $0.nodeName != nil }) else { throw CLIError("the journal at \(path) has no placed pod") }
                return try pod.json(in: view)
            }
            let scratch = (dir ?? NSTemporaryDirectory()) + "/kj-bench-head-pods-\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            r.merge(try await Self.getAllPods(headPods, like: template, in: scratch, progress: progress)) { $1 }
        }

        if json {
            print(try jsonText(r.mapValues { ($0 * 1000).rounded() / 1000 }))
        } else {
            print(Self.table(r, samples: n))
        }
    }

    /// Simulates the churn scenario into `path` when that holds no journal yet; returns how long it
    /// took (nil: a journal was there).
    static func simulateChurn(into path: String, events: Int, pods: Int?, seed: UInt64) async throws -> Double? {
        guard try isEmpty(path) else { return nil }
        let scenario = churn(events: events, pods: pods, seed: seed)
        printError("simulating about \(events) events into \(path): \(scenario.summary)")
        let start = ContinuousClock.now
        // About 8 KiB of map per event (snapshots included) up front: a no-sync journal reserves its
        // whole map on disk, so a small run must not ask for the 8 GiB a million events need.
        let writer = try Journal.open(at: path, options: JournalOptions(initialMapSize: max(64 << 20, min(8 << 30, events * 8 << 10)), durability: .noSync))
        let simulator = try await Simulator(scenario: try Scenario(yaml: scenario.yaml), journal: writer)
        try await simulator.run()
        try writer.sync()
        writer.close()
        return (ContinuousClock.now - start).seconds
    }

    /// `kj get pods -A` at the head of a journal of `count` running pods (Kubernetes' limit is
    /// 150,000), each a copy of `template` with its own name, uid and node, in 100 namespaces, with
    /// snapshots every 10,000 events as `kj serve` writes them. get_all_*: the rows read in place,
    /// in this process (5 runs); get_all_cli_ms: the whole command in a new process, opening the
    /// journal included (median of 3); get_all_decoded_ms: the same rows from decoded pods (once:
    /// the baseline, which must print the same table).
    static func getAllPods(_ count: Int, like template: JSONValue, in path: String, progress: (String) -> Void) async throws -> [String: Double] {
        progress("kj get pods -A: writing a journal of \(count) running pods")
        let journal = try Journal.open(at: path, options: JournalOptions(initialMapSize: max(64 << 20, count * 12 << 10), durability: .noSync))
        let start = Timestamp(microseconds: 1_790_000_000_000_000)
        _ = try journal.appendSynchronously([JournalImport.initialized(from: "kj bench queries", seed: 1, at: start)])
        var pod = template
        pod["metadata"]?["resourceVersion"] = nil
        var i = 0
        while i < count {
            var drafts: [EventDraft] = []
            for k in i..<min(count, i + 1000) {
                let name = "pod-\(k)", namespace = "ns-\(k % 100)", uid = "00000000-0000-4000-8000-\(String(k).leftPadded(12, with: "0"))"
                pod["metadata"]?["name"] = .string(name)
                pod["metadata"]?["namespace"] = .string(namespace)
                pod["metadata"]?["uid"] = .string(uid)
                pod["spec"]?["nodeName"] = .string("node-\(k % 5000)")
                drafts.append(EventDraft(time: start.adding(microseconds: Int64(k)), type: WriteType.created.rawValue, actor: Actor(kind: "user", name: "bench"),
                                         object: ObjectRef(kind: Pod.kind, namespace: namespace, name: name, uid: uid), data: pod.serialized()))
            }
            _ = try journal.appendSynchronously(drafts)
            i += 1000
        }
        try await Projection.writeSnapshots(journal, every: 10_000)
        try journal.sync()
        let head = try journal.head().revision
        var r: [String: Double] = ["get_all_pods": Double(count)]
        var tables: [String] = []
        var ms: [Double] = []
        for _ in 0..<5 {
            let t0 = ContinuousClock.now
            let (_, rows) = try journal.read { view in try Get.rows(.pod, namespace: nil, at: head, in: view) }
            tables.append(Get.table(.pod, rows, namespace: nil, wide: false))
            ms.append((ContinuousClock.now - t0).seconds * 1000)
            guard rows.count == count else { throw CLIError("kj get pods -A listed \(rows.count) pods of \(count)") }
        }
        ms.sort()
        r["get_all_p50_ms"] = percentile(ms, 50)
        r["get_all_max_ms"] = ms.last!
        journal.close()

        progress("kj get pods -A: the command, 3 times")
        var cli: [Double] = []
        for _ in 0..<3 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            process.arguments = ["get", "pods", "-A", "--journal", path]
            process.standardOutput = FileHandle.nullDevice
            let t0 = ContinuousClock.now
            try process.run()
            process.waitUntilExit()
            cli.append((ContinuousClock.now - t0).seconds * 1000)
            guard process.terminationStatus == 0 else { throw CLIError("kj get pods -A --journal \(path) exited \(process.terminationStatus)") }
        }
        r["get_all_cli_ms"] = percentile(cli.sorted(), 50)

        progress("kj get pods -A: the same rows from decoded pods, once")
        let reader = try Journal.open(at: path, options: .reader)
        defer { reader.close() }
        let t0 = ContinuousClock.now
        let (state, pods) = try reader.read { view in try Get.select(.pod, namespace: nil, at: head, in: view) }
        let decoded = Get.table(.pod, Get.Listed.objects(pods).rows(.pod, at: state.time), namespace: nil, wide: false)
        r["get_all_decoded_ms"] = (ContinuousClock.now - t0).seconds * 1000
        guard decoded == tables.last else { throw CLIError("kj get pods -A: the rows read in place differ from the decoded pods'") }
        r["get_all_decoded_over_in_place"] = r["get_all_decoded_ms"]! / r["get_all_p50_ms"]!
        return r
    }

    /// Times `n` runs of `query` (each returning the size of what it rendered, which must not be 0):
    /// wall time, and the CPU time of this thread (which leaves out waiting for a CPU on a busy
    /// machine, and any waiting for the disk).
    private func measure(_ n: Int, _ name: String, _ query: () throws -> Int) throws -> [String: Double] {
        var ms: [Double] = [], cpu: [Double] = []
        for _ in 0..<n {
            let start = ContinuousClock.now, cpuStart = Self.threadCPUMilliseconds()
            let size = try query()
            ms.append((ContinuousClock.now - start).seconds * 1000)
            cpu.append(Self.threadCPUMilliseconds() - cpuStart)
            guard size > 0 else { throw CLIError("\(name) rendered nothing") }
        }
        ms.sort()
        cpu.sort()
        return ["\(name)_p50_ms": Self.percentile(ms, 50), "\(name)_p99_ms": Self.percentile(ms, 99), "\(name)_max_ms": ms.last!,
                "\(name)_p99_cpu_ms": Self.percentile(cpu, 99)]
    }

    static func threadCPUMilliseconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) * 1000 + Double(t.tv_nsec) / 1e6
    }

    /// What `kj events --actor ops --type Updated` computes: every event looked at, each match decoded
    /// into its row. Returns the events looked at, and the rows' count and the seconds it took.
    static func filteredEvents(_ journal: Journal) throws -> (Int, (count: Int, seconds: Double)) {
        var filter = EventFilter()
        filter.actor = filterActor
        filter.types = [filterType]
        let start = ContinuousClock.now
        var lines: [String] = []
        let looked = try journal.read { view in
            try filter.forEach(in: view) { h in
                if let e = try view.event(at: h.revision) { lines.append(EventRecord(e).line) }
                return true
            }
        }
        return (looked, (lines.count, (ContinuousClock.now - start).seconds))
    }

    static func percentile(_ sorted: [Double], _ p: Int) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * p / 100)]
    }

    static func isEmpty(_ path: String) throws -> Bool {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path), !entries.isEmpty else { return true }
        let journal = try Journal.open(at: path, options: .reader)
        defer { journal.close() }
        return try journal.head().revision == 0
    }

    private func progress(_ s: String) {
        if !json || isatty(STDERR_FILENO) != 0 { printError(s) }
    }

    /// A scenario of deployment churn sized to write about `events` events: ten Deployments of
    /// `pods` ÷ 10 pods on nodes of 40 pods (a quarter of their CPU), each rolled to the other image
    /// in turn every 30 s.
    static func churn(events: Int, pods: Int?, seed: UInt64) -> (yaml: String, summary: String) {
        let replicas = max(1, (pods ?? min(5_000, max(50, events / 200))) / deployments)
        let nodes = max(3, deployments * replicas / 40)
        // Calibrated on runs of this scenario: events per pod replaced in a rollout, the controllers'
        // own per rollout, heartbeats (one every 10 s per node) over its 30 s; per pod created at first.
        let perRollout = Double(replicas) * 17 + 60 + Double(nodes) * 3
        let initial = Double(deployments * replicas) * 10
        let rollouts = max(1, Int((Double(events) - initial) / perRollout + 0.5))
        var yaml = """
            name: queries-bench
            seed: \(seed)
            user: \(filterActor)
            duration: \(60 + 30 * rollouts + 120)s
            cluster:
              nodes:
              - {namePrefix: node-, count: \(nodes), cpu: "16", memory: 64Gi, pods: "110", images: ["app:1", "app:2"]}
            timeline:
            - at: 1s
              apply: |

            """
        for d in 0..<deployments {
            yaml += """
                    ---
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: web-\(d)}
                    spec:
                      replicas: \(replicas)
                      selector: {matchLabels: {app: web-\(d)}}
                      strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}
                      template:
                        metadata: {labels: {app: web-\(d)}}
                        spec:
                          containers:
                          - {name: app, image: "app:1", resources: {requests: {cpu: 100m, memory: 64Mi}}}

                """
        }
        for k in 0..<rollouts {
            yaml += """
                - at: \(60 + 30 * k)s
                  setImage: deployment/web-\(k % deployments)
                  image: "app:\((k / deployments) % 2 == 0 ? 2 : 1)"

                """
        }
        return (yaml, "\(nodes) nodes, \(deployments) deployments of \(replicas) pods, \(rollouts) rollouts")
    }

    static func table(_ r: [String: Double], samples n: Int) -> String {
        func v(_ k: String, _ f: String = "%.0f") -> String { r[k].map { String(format: f, $0) } ?? "-" }
        let rows: [[String]] = [
            ["kj why pod/NAME", "why", "\(n)", "≤ 10", "\(v("why_causes_p50")) causes"],
            ["kj history pod/NAME", "history", "\(n)", "≤ 10", "\(v("history_entries_p50")) entries, \(v("history_own_events_p50")) about the pod"],
            ["kj get pods --at REV", "get_at", "\(max(1, n / 2))", "≤ 100", "\(v("get_at_pods_p50")) pods"],
            ["  the same, pods decoded", "get_at_decoded", "\(max(1, n / 2))", "", "\(v("get_at_decoded_over_in_place_p50", "%.1f"))× in place (p50)"],
            ["kj diff REV REV+\(diffSpan)", "diff", "\(max(1, n / 5))", "", "\(v("diff_objects_p50")) objects changed"],
        ].map { row in
            [row[0], row[2]] + ["p50", "p99", "max", "p99_cpu"].map { v("\(row[1])_\($0)_ms", "%.2f") } + [row[3], row[4]]
        }
        var out = "journal: \(v("events")) events (\(v("journal_mb")) MiB)"
        if r["generate_seconds"] != nil { out += ", simulated in \(v("generate_seconds", "%.1f")) s" }
        out += "; \(v("pods_in_journal")) pods over its life, \(v("pods_placed_at_head")) placed at the head\n\n"
        out += TextTable.render(header: ["QUERY", "RUNS", "P50 MS", "P99 MS", "MAX MS", "P99 CPU MS", "P99 TARGET", "(P50)"], rows: rows)
        if r["get_all_pods"] != nil {
            out += "\nkj get pods -A at the head of \(v("get_all_pods")) running pods: p50 \(v("get_all_p50_ms")) ms, max \(v("get_all_max_ms")) ms in this process; "
            out += "\(v("get_all_cli_ms")) ms as a command (target ≤ 1,000); decoding every pod instead: \(v("get_all_decoded_ms")) ms"
        }
        out += "\nkj events --actor \(filterActor) --type \(filterType): \(v("events_filter_per_s")) events/s looked at (target ≥ 1,000,000; "
        out += "\(v("events_filter_matches")) matches); a bare scan of their headers: \(v("scan_per_s")) events/s (filter ÷ scan \(v("events_filter_over_scan", "%.2f")))"
        return out
    }
}
