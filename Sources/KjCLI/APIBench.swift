import ArgumentParser
import Foundation
import Synchronization
import Journal
import NIOCore
import NIOHTTP1
import NIOPosix

/// `kj bench api`: pod creates through a real `kj serve` against etcd puts of the same bodies,
/// both under wrk with 64 connections, and the delivery of every pod event to 1,000 watchers.
struct APIBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Pod creates through kj serve against etcd puts of the same bodies (wrk, 64 connections), and watch fan-out to 1,000 watchers.",
        discussion: """
            create_pods_per_s: wrk with --connections keep-alive TLS connections POSTs pods with unique \
            names to /api/v1/namespaces/default/pods of a `kj serve` child process (this kj binary, a fresh \
            journal, --nodes simulated nodes); the scheduler, the controllers and the kubelets run in that \
            process and place what fits, so their work competes for the same cores. \
            create_pods_unscheduled_per_s: the same with pods naming a scheduler that does not exist, so \
            no component acts on them (the API and journal path alone). Afterwards every acknowledged \
            create is looked for in the journal. etcd_put_per_s: etcd (3.4, Debian's etcd-server) on \
            loopback in a temporary directory takes puts of the same JSON bodies under \
            /registry/pods/default/NAME through its v3 JSON gateway (POST /v3/kv/put), same wrk, same \
            connections. Durability is each server's default: kj serve fsyncs every group commit before \
            it answers, etcd fsyncs its write-ahead log for every batch of proposals before it answers. \
            The three measurements alternate, --runs times; medians are reported. \
            watch_*: --watchers watches (GET …/pods?watch=1&resourceVersion=R, the benchmark's own \
            SwiftNIO client) while --watch-writers connections create --events pods (at --watch-rate per \
            second, 0: as fast as they are answered); the latency of a delivery is the time from the \
            create's answer reaching its writer to the event's line reaching a watcher, both in this \
            process. Every watcher must receive every event. watch_unwatched_write_per_s: the same creates \
            on the same server before any watch opens (the baseline of watch_write_ratio, watched ÷ unwatched). \
            The benchmark installs nothing: it needs wrk and etcd on PATH (apt-get install wrk etcd-server), \
            or --no-etcd.
            """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Seconds of load (wrk's --duration) per measurement.") var duration = 20
    @Option(help: "Concurrent HTTP connections of wrk.") var connections = 64
    @Option(help: "wrk threads.") var wrkThreads = 2
    @Option(help: "Simulated nodes of each kj serve.") var nodes = 3
    @Option(help: "Rounds of the three load measurements; medians are reported (0: watch only).") var runs = 3
    @Option(help: "Concurrent watchers.") var watchers = 1000
    @Option(help: "Pod events every watcher must receive.") var events = 10_000
    @Option(help: "Connections creating the watched pods.") var watchWriters = 16
    @Option(help: "Creates per second while watched (0: as fast as answered).") var watchRate: Double = 0
    @Option(help: "Seconds to wait for every watcher to receive every event.") var watchTimeout: Double = 900
    @Flag(help: "Skip etcd (no etcd_put_per_s, no ratio).") var noEtcd = false
    @Option(help: ArgumentHelp("The wrk executable.", valueName: "path")) var wrk = "wrk"
    @Option(help: ArgumentHelp("The etcd executable.", valueName: "path")) var etcd = "etcd"
    @Option(help: ArgumentHelp("Where to create the temporary journals and etcd's data.", valueName: "dir")) var dir: String?

    func validate() throws {
        guard duration >= 1, connections >= 1, wrkThreads >= 1, nodes >= 1, runs >= 0, watchWriters >= 1, events >= 1, watchers >= 0 else {
            throw ValidationError("counts must be positive")
        }
        guard connections >= wrkThreads else { throw ValidationError("--connections must be at least --wrk-threads") }
    }

    func run() async throws {
        let wrkPath = try Self.executable(wrk, install: "apt-get install wrk")
        let etcdPath = noEtcd ? nil : try Self.executable(etcd, install: "apt-get install etcd-server")
        let kjPath = try Self.selfExecutable()
        try Self.raiseFileLimit(atLeast: watchers * 2 + connections * 2 + 256)
        let root = (dir ?? NSTemporaryDirectory()) + "/kj-bench-api-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var n = 0
        func fresh(_ label: String) throws -> String {
            n += 1
            let d = "\(root)/\(n)-\(label)"
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            return d
        }

        var samples: [String: [Double]] = [:]
        func add(_ key: String, _ value: Double) { samples[key, default: []].append(value) }
        for round in stride(from: 1, through: runs, by: 1) {
            if let etcdPath {
                progress("round \(round)/\(runs): etcd puts for \(duration) s, \(connections) connections")
                let e = try await etcdPuts(etcd: etcdPath, wrk: wrkPath, dir: try fresh("etcd"))
                add("etcd_put_per_s", e.rate)
                add("etcd_put_latency_p50_ms", e.p50ms)
                add("etcd_put_latency_p99_ms", e.p99ms)
                add("etcd_put_cpu_us_per_write", e.serverCPU / Double(e.acked) * 1e6)
                add("etcd_put_acknowledged", Double(e.acked))
            }
            for unscheduled in [false, true] {
                let label = unscheduled ? "create_pods_unscheduled" : "create_pods"
                progress("round \(round)/\(runs): pod creates\(unscheduled ? " (no scheduler)" : "") for \(duration) s, \(connections) connections, \(nodes) node(s)")
                let k = try await kjCreates(kj: kjPath, wrk: wrkPath, dir: try fresh(label), unscheduled: unscheduled)
                add("\(label)_per_s", k.run.rate)
                add("\(label)_latency_p50_ms", k.run.p50ms)
                add("\(label)_latency_p99_ms", k.run.p99ms)
                add("\(label)_cpu_us_per_write", k.run.serverCPU / Double(k.run.acked) * 1e6)
                add("\(label)_component_events_per_create", Double(k.componentEvents) / Double(k.run.acked))
                add("\(label)_in_journal", Double(k.inJournal))
                add("\(label)_acknowledged", Double(k.run.acked))
            }
        }
        var r = samples.mapValues { $0.sorted()[$0.count / 2] }
        for (key, values) in samples where key.hasSuffix("_per_s") {
            r[key.replacingOccurrences(of: "_per_s", with: "_min_per_s")] = values.min()
            r[key.replacingOccurrences(of: "_per_s", with: "_max_per_s")] = values.max()
        }
        if let e = r["etcd_put_per_s"], let k = r["create_pods_per_s"], let u = r["create_pods_unscheduled_per_s"] {
            r["ratio"] = k / e
            r["ratio_unscheduled"] = u / e
        }
        r["duration_s"] = Double(duration)
        r["connections"] = Double(connections)
        r["nodes"] = Double(nodes)
        r["runs"] = Double(runs)

        if watchers > 0 {
            progress("watch: \(watchers) watchers, \(events) pod creates by \(watchWriters) writers\(watchRate > 0 ? " at \(Int(watchRate))/s" : "")")
            for (k, v) in try await watchFanout(kj: kjPath, dir: try fresh("watch")) { r[k] = v }
        }

        if json {
            print(try jsonText(r.mapValues { ($0 * 1000).rounded() / 1000 }))
        } else {
            print(Self.table(r))
        }
    }

    private func progress(_ text: String) {
        FileHandle.standardError.write(Data("kj bench api: \(text)\n".utf8))
    }

    // MARK: creates and puts under wrk

    /// What one wrk run measured.
    struct LoadRun {
        var rate: Double
        var acked: Int
        var p50ms: Double
        var p99ms: Double
        var serverCPU: Double
    }

    private func kjCreates(kj: String, wrk: String, dir: String, unscheduled: Bool) async throws -> (run: LoadRun, inJournal: Int, componentEvents: Int) {
        let server = try ServeChild.start(kj: kj, dir: dir, nodes: nodes)
        var stopped = false
        defer { if !stopped { server.stop() } }
        let prefix = "bench-"
        let cpu = server.cpuSeconds()
        var run = try runWrk(wrk, url: server.url, script: Self.script(
            mode: .kj(token: server.token), prefix: prefix, unscheduled: unscheduled), dir: dir)
        run.serverCPU = server.cpuSeconds() - cpu
        server.stop()
        stopped = true
        // Every acknowledged create must be in the journal (more may be: wrk stops counting while
        // requests are still in flight).
        var inJournal = 0, components = 0
        let journal = try Journal.open(at: server.journal, options: .reader)
        defer { journal.close() }
        try journal.read { view in
            try view.forEachHeader(in: 1...UInt64.max) { h in
                if h.type == "Created", h.object.kind == "Pod", h.object.name.hasPrefix(prefix), h.actor.kind == "user" {
                    inJournal += 1
                } else if !["user", "bootstrap"].contains(h.actor.kind) {
                    components += 1
                }
                return true
            }
        }
        guard inJournal >= run.acked else {
            throw CLIError("only \(inJournal) of \(run.acked) acknowledged pod creates are in the journal")
        }
        return (run, inJournal, components)
    }

    private func etcdPuts(etcd: String, wrk: String, dir: String) async throws -> LoadRun {
        let server = try await EtcdChild.start(etcd: etcd, dir: dir)
        defer { server.stop() }
        let cpu = server.cpuSeconds()
        var run = try runWrk(wrk, url: server.url, script: Self.script(mode: .etcd, prefix: "bench-", unscheduled: false), dir: dir)
        run.serverCPU = server.cpuSeconds() - cpu
        let stored = try await server.count(prefix: "/registry/pods/")
        guard stored >= run.acked else { throw CLIError("etcd holds \(stored) keys after \(run.acked) acknowledged puts") }
        return run
    }

    private func runWrk(_ wrk: String, url: String, script: String, dir: String) throws -> LoadRun {
        let scriptPath = dir + "/load.lua"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let result = try Self.runProcess(wrk, ["-t", String(wrkThreads), "-c", String(connections), "-d", "\(duration)s", "--timeout", "30s", "-s", scriptPath, url])
        guard result.status == 0, let line = result.stdout.split(separator: "\n").first(where: { $0.hasPrefix("KJBENCH ") }) else {
            throw CLIError("wrk failed (exit \(result.status)): \(result.stderr)\(result.stdout)")
        }
        let fields = try JSONSerialization.jsonObject(with: Data(line.dropFirst(8).utf8)) as? [String: Any] ?? [:]
        func number(_ k: String) -> Double { (fields[k] as? NSNumber)?.doubleValue ?? 0 }
        let acked = Int(number("acked")), failed = Int(number("failed"))
        let errors = Int(number("connect_errors") + number("read_errors") + number("write_errors") + number("timeouts"))
        guard failed == 0, errors == 0 else {
            throw CLIError("\(failed) requests were refused (statuses: \(fields["codes"] ?? "")) and \(errors) failed at the socket, of \(acked + failed)")
        }
        guard acked > 0 else { throw CLIError("no request was answered in \(duration) s") }
        return LoadRun(rate: Double(acked) / (number("duration_us") / 1e6), acked: acked,
                       p50ms: number("latency_p50_us") / 1000, p99ms: number("latency_p99_us") / 1000, serverCPU: 0)
    }

    enum LoadMode {
        case kj(token: String)
        case etcd
    }

    /// The pod every create sends: `NAME` is replaced by a unique name.
    static func podBody(unscheduled: Bool) -> String {
        let scheduler = unscheduled ? #""schedulerName":"kj-bench-none","# : ""
        return #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME","labels":{"app":"kj-bench","tier":"web"}},"#
            + #""spec":{\#(scheduler)"containers":[{"name":"app","image":"registry.example.com/team/app:1.4.2","#
            + #""ports":[{"containerPort":8080,"name":"http"}],"resources":{"requests":{"cpu":"10m","memory":"16Mi"}}}]}}"#
    }

    /// wrk's script: unique names per thread and request, answers counted by status, and
    /// `done` prints one `KJBENCH {json}` line.
    static func script(mode: LoadMode, prefix: String, unscheduled: Bool) -> String {
        let parts = podBody(unscheduled: unscheduled).components(separatedBy: "NAME")
        let request: String
        switch mode {
        case .kj(let token):
            request = """
                return wrk.format("POST", "/api/v1/namespaces/default/pods",
                    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer \(token)"}, body)
                """
        case .etcd:
            request = """
                return wrk.format("POST", "/v3/kv/put", {["Content-Type"] = "application/json"},
                    '{"key":"' .. b64("/registry/pods/default/" .. name) .. '","value":"' .. b64(body) .. '"}')
                """
        }
        let ok: Int
        if case .etcd = mode { ok = 200 } else { ok = 201 }
        return """
            -- kj bench api: unique pod creates (or etcd puts of the same bodies).
            local threads = {}
            local next_id = 0
            function setup(thread)
              thread:set("tid", next_id)
              table.insert(threads, thread)
              next_id = next_id + 1
            end

            sent, acked, failed, codes = 0, 0, 0, ""

            local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            function b64(s)
              local out, n = {}, #s
              for i = 1, n, 3 do
                local a, b, c = s:byte(i, i + 2)
                local v = a * 65536 + (b or 0) * 256 + (c or 0)
                local c1 = math.floor(v / 262144) % 64
                local c2 = math.floor(v / 4096) % 64
                local c3 = math.floor(v / 64) % 64
                local c4 = v % 64
                out[#out + 1] = chars:sub(c1 + 1, c1 + 1) .. chars:sub(c2 + 1, c2 + 1)
                  .. (b and chars:sub(c3 + 1, c3 + 1) or "=") .. (c and chars:sub(c4 + 1, c4 + 1) or "=")
              end
              return table.concat(out)
            end

            local pre, post = [==[\(parts[0])]==], [==[\(parts[1])]==]
            function request()
              sent = sent + 1
              local name = "\(prefix)" .. tid .. "-" .. sent
              local body = pre .. name .. post
              \(request)
            end

            function response(status, headers, body)
              if status == \(ok) then
                acked = acked + 1
              else
                failed = failed + 1
                if #codes < 200 then codes = codes .. status .. " " end
              end
            end

            function done(summary, latency, requests)
              local a, f, c = 0, 0, ""
              for _, t in ipairs(threads) do
                a = a + t:get("acked")
                f = f + t:get("failed")
                c = c .. t:get("codes")
              end
              local e = summary.errors
              io.write(string.format('KJBENCH {"requests":%d,"duration_us":%d,"acked":%d,"failed":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"latency_p50_us":%d,"latency_p99_us":%d,"codes":"%s"}\\n',
                summary.requests, summary.duration, a, f, e.connect, e.read, e.write, e.timeout,
                latency:percentile(50), latency:percentile(99), c))
            end
            """
    }

    // MARK: watch fan-out

    private func watchFanout(kj: String, dir: String) async throws -> [String: Double] {
        let server = try ServeChild.start(kj: kj, dir: dir, nodes: nodes)
        defer { server.stop() }
        let group = MultiThreadedEventLoopGroup.singleton
        let endpoint = try BenchHTTP.Endpoint.kj(url: server.url, caFile: server.journal + "/ca.crt", token: server.token)
        let writers = try await withThrowingTaskGroup(of: BenchConnection.self) { g in
            for _ in 0..<watchWriters { g.addTask { try await BenchConnection.open(endpoint, group: group) } }
            return try await g.reduce(into: []) { $0.append($1) }
        }
        defer { for w in writers { w.channel.close(promise: nil) } }
        let body = Self.podBody(unscheduled: true)
        func create(_ name: String, on c: BenchConnection) async throws -> (UInt64, UInt64) {
            let reply = try await c.send(.POST, "/api/v1/namespaces/default/pods", body: Array(body.replacingOccurrences(of: "NAME", with: name).utf8))
            guard reply.status == 201, let rev = reply.body.withUnsafeReadableBytes({ BenchHTTP.resourceVersion(in: $0) }) else {
                throw CLIError("creating pod \(name) answered \(reply.status): \(String(buffer: reply.body).prefix(300))")
            }
            return (rev, reply.receivedAt)
        }

        // The writes, each writer taking every watchWriters-th event, paced if asked: the
        // acknowledged revisions with when each answer arrived, and how long they all took.
        let rate = watchRate, total = events, stride = watchWriters
        func writeAll(_ prefix: String) async throws -> ([(UInt64, UInt64)], Double) {
            let t0 = BenchHTTP.now()
            let acks = try await withThrowingTaskGroup(of: [(UInt64, UInt64)].self) { g in
                for (k, c) in writers.enumerated() {
                    g.addTask {
                        var mine: [(UInt64, UInt64)] = []
                        var i = k
                        while i < total {
                            if rate > 0 {
                                let due = t0 + UInt64(Double(i) / rate * 1e9)
                                let now = BenchHTTP.now()
                                if due > now { try await Task.sleep(for: .nanoseconds(Int64(due - now))) }
                            }
                            mine.append(try await create("\(prefix)-\(i)", on: c))
                            i += stride
                        }
                        return mine
                    }
                }
                return try await g.reduce(into: []) { $0 += $1 }
            }
            return (acks, Double(BenchHTTP.now() - t0) / 1e9)
        }

        // The baseline: as many creates with nobody watching yet (other names, same server, before the watches open).
        let (_, unwatchedSeconds) = try await writeAll("unwatched")

        // Watch from just before a first pod, so every watcher's first line says it is live.
        let (start, _) = try await create("watch-start", on: writers[0])
        let path = "/api/v1/namespaces/default/pods?watch=1&resourceVersion=\(start - 1)"
        let opened = ContinuousClock.now
        var watches: [BenchWatch] = []
        var nextWatcher = 0
        // Connect in waves, so the listen backlog never overflows.
        while nextWatcher < watchers {
            let wave = min(64, watchers - nextWatcher)
            nextWatcher += wave
            let batch = try await withThrowingTaskGroup(of: BenchWatch.self) { g in
                for _ in 0..<wave { g.addTask { try await BenchWatch.open(endpoint, path: path, after: start, expected: events, group: group) } }
                return try await g.reduce(into: []) { $0.append($1) }
            }
            watches += batch
        }
        defer { for w in watches { w.channel.close(promise: nil) } }
        for w in watches { try await w.handler.first.futureResult.get() }
        let connectSeconds = (ContinuousClock.now - opened).seconds
        let failedToStart = try await watches.asyncCount { w in try await w.channel.eventLoop.submit { w.handler.status != 200 || w.handler.ended }.get() }
        guard failedToStart == 0 else { throw CLIError("\(failedToStart) of \(watchers) watches did not start") }

        let t0 = BenchHTTP.now()
        let (acks, writeSeconds) = try await writeAll("watched")

        // Every watcher must see every event.
        let deadline = ContinuousClock.now + .seconds(watchTimeout)
        for w in watches {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { break }
            _ = try? await w.handler.done.futureResult.timed(out: remaining, on: w.channel.eventLoop)
        }
        let deliverSeconds = Double(BenchHTTP.now() - t0) / 1e9
        var ackAt: [UInt64: UInt64] = [:]
        ackAt.reserveCapacity(acks.count)
        for (rev, at) in acks { ackAt[rev] = at }
        var latencies: [Int64] = []
        latencies.reserveCapacity(watchers * events)
        var complete = 0, early = 0
        for w in watches {
            let (revisions, times) = try await w.channel.eventLoop.submit { (w.handler.revisions, w.handler.times) }.get()
            var got = 0
            for (rev, at) in zip(revisions, times) {
                guard let acked = ackAt[rev] else { continue }
                got += 1
                let ns = Int64(bitPattern: at &- acked)
                if ns < 0 { early += 1 }
                latencies.append(max(0, ns / 1000))
            }
            if got == events { complete += 1 }
        }
        guard complete == watchers else {
            throw CLIError("only \(complete) of \(watchers) watchers received all \(events) events within \(Int(watchTimeout)) s")
        }
        latencies.sort()
        func pct(_ p: Double) -> Double { Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1000 }
        return [
            "watchers": Double(watchers), "watch_events": Double(events), "watch_writers": Double(watchWriters),
            "watchers_complete": Double(complete),
            "watch_latency_p50_ms": pct(0.50), "watch_latency_p99_ms": pct(0.99), "watch_latency_max_ms": Double(latencies.last ?? 0) / 1000,
            "watch_before_ack_fraction": Double(early) / Double(max(1, latencies.count)),
            "watch_write_per_s": Double(events) / writeSeconds,
            "watch_unwatched_write_per_s": Double(events) / unwatchedSeconds,
            "watch_write_ratio": unwatchedSeconds / writeSeconds,
            "watch_deliveries_per_s": Double(watchers * events) / deliverSeconds,
            "watch_connect_seconds": connectSeconds,
        ]
    }

    // MARK: output

    static func table(_ r: [String: Double]) -> String {
        func v(_ k: String, _ format: String = "%.0f") -> String { r[k].map { String(format: format, $0) } ?? "-" }
        var lines: [String] = []
        let runs = Int(r["runs"] ?? 1)
        lines.append("\(v("duration_s")) s of load per measurement, \(v("connections")) connections (wrk), median of \(runs)")
        lines.append("                                        per s     min–max         p50 ms  p99 ms  server CPU µs/write")
        func row(_ label: String, _ key: String) {
            let padded = label.padding(toLength: 36, withPad: " ", startingAt: 0)
            lines.append("  \(padded)\(v(key + "_per_s").leftPadded(9, with: " "))  \(v(key + "_min_per_s").leftPadded(6, with: " "))–\(v(key + "_max_per_s").padding(toLength: 6, withPad: " ", startingAt: 0))   \(v(key + "_latency_p50_ms", "%.1f").leftPadded(7, with: " ")) \(v(key + "_latency_p99_ms", "%.1f").leftPadded(7, with: " "))  \(v(key + "_cpu_us_per_write").leftPadded(6, with: " "))")
        }
        row("kj serve pod creates (\(v("nodes")) nodes)", "create_pods")
        row("kj serve pod creates, no scheduler", "create_pods_unscheduled")
        if r["etcd_put_per_s"] != nil {
            row("etcd 3.4 puts (JSON gateway)", "etcd_put")
            lines.append("  ratio creates ÷ etcd puts: \(v("ratio", "%.2f")) (no scheduler: \(v("ratio_unscheduled", "%.2f")))")
        }
        lines.append("  component events per create: \(v("create_pods_component_events_per_create", "%.2f"))")
        if r["watchers"] != nil {
            lines.append("watch fan-out: \(v("watchers")) watchers × \(v("watch_events")) events, all delivered to \(v("watchers_complete")) watchers")
            lines.append("  latency from acknowledgement p50 \(v("watch_latency_p50_ms", "%.1f")) ms, p99 \(v("watch_latency_p99_ms", "%.1f")) ms, max \(v("watch_latency_max_ms", "%.1f")) ms")
            lines.append("  writes \(v("watch_write_per_s"))/s watched against \(v("watch_unwatched_write_per_s"))/s unwatched (ratio \(v("watch_write_ratio", "%.2f")), target ≥ 0.8), deliveries \(v("watch_deliveries_per_s"))/s")
        }
        return lines.joined(separator: "\n")
    }

    // MARK: processes and tools

    /// The absolute path of `name` (as given if it has a slash, else from PATH), or an error that
    /// says how to install it.
    static func executable(_ name: String, install: String) throws -> String {
        if name.contains("/") {
            guard FileManager.default.isExecutableFile(atPath: name) else { throw CLIError("\(name) is not an executable file") }
            return name
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw CLIError("\(name) not found on PATH: install it first (Debian: \(install)); the benchmark installs nothing")
    }

    static func selfExecutable() throws -> String {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        guard path.hasSuffix("/kj") else { throw CLIError("kj bench api must run from the kj executable (it starts kj serve), not \(path)") }
        return path
    }

    static func raiseFileLimit(atLeast needed: Int) throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < rlim_t(needed) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(max(needed, 65_536)))
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        guard limit.rlim_cur >= rlim_t(needed) else {
            throw CLIError("needs \(needed) open files, but the limit is \(limit.rlim_cur) (hard \(limit.rlim_max)): raise it (ulimit -n) or use fewer --watchers")
        }
    }

    static func runProcess(_ path: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let errText = ErrBox()
        let readErr = Thread { errText.data = err.fileHandleForReading.readDataToEndOfFile() }
        readErr.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !errText.finished { usleep(1000) }
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errText.data, as: UTF8.self))
    }

    private final class ErrBox: Sendable {
        private let stored = Mutex<Data?>(nil)
        var data: Data {
            get { stored.withLock { $0 ?? Data() } }
            set { stored.withLock { $0 = newValue } }
        }
        var finished: Bool { stored.withLock { $0 != nil } }
    }
}

/// CPU seconds (user + system) a process has used so far, from /proc.
func processCPUSeconds(_ pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After the command: state is field 3, utime 14, stime 15 (1-based, counting pid and comm).
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Stops a child process: SIGTERM, then SIGKILL after 30 s.
func stopChild(_ process: Process) {
    guard process.isRunning else { return }
    process.terminate()
    let deadline = Date().addingTimeInterval(30)
    while process.isRunning, Date() < deadline { usleep(10_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
}

/// A `kj serve` child on a fresh journal and a free port.
final class ServeChild {
    let process = Process()
    let journal: String
    private(set) var url = ""
    private(set) var token = ""

    private init(journal: String) { self.journal = journal }

    static func start(kj: String, dir: String, nodes: Int) throws -> ServeChild {
        let child = ServeChild(journal: dir + "/journal")
        let out = Pipe()
        child.process.executableURL = URL(fileURLWithPath: kj)
        child.process.arguments = ["serve", "--journal", child.journal, "--listen", "127.0.0.1:0", "--nodes", String(nodes), "--log-level", "error"]
        child.process.standardOutput = out
        _ = FileManager.default.createFile(atPath: dir + "/serve.log", contents: nil)
        child.process.standardError = FileHandle(forWritingAtPath: dir + "/serve.log")
        child.process.standardInput = FileHandle.nullDevice
        try child.process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(120)
        while !text.contains("kubeconfig: "), Date() < deadline, child.process.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let listening = text.range(of: "listening on ") else {
            child.stop()
            let log = (try? String(contentsOfFile: dir + "/serve.log", encoding: .utf8)) ?? ""
            throw CLIError("kj serve did not start: \(text)\(log)")
        }
        child.url = String(text[listening.upperBound...].prefix { !$0.isWhitespace })
        let tokens = try String(contentsOfFile: child.journal + "/tokens.csv", encoding: .utf8)
        guard let line = tokens.split(separator: "\n").first(where: { !$0.hasPrefix("#") }), let token = line.split(separator: ",").first else {
            child.stop()
            throw CLIError("no token in \(child.journal)/tokens.csv")
        }
        child.token = String(token)
        return child
    }

    func cpuSeconds() -> Double { processCPUSeconds(process.processIdentifier) }

    func stop() { stopChild(process) }
}

/// An etcd child on loopback with its data in a temporary directory (default durability: the
/// write-ahead log is fsynced before a put is answered).
final class EtcdChild {
    let process = Process()
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    private init(port: Int) { self.port = port }

    static func start(etcd: String, dir: String) async throws -> EtcdChild {
        let client = try freePort(), peer = try freePort()
        let child = EtcdChild(port: client)
        child.process.executableURL = URL(fileURLWithPath: etcd)
        child.process.arguments = [
            "--name", "bench", "--data-dir", dir + "/etcd",
            "--listen-client-urls", "http://127.0.0.1:\(client)", "--advertise-client-urls", "http://127.0.0.1:\(client)",
            "--listen-peer-urls", "http://127.0.0.1:\(peer)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(peer)",
            "--initial-cluster", "bench=http://127.0.0.1:\(peer)", "--logger", "zap", "--log-level", "error",
        ]
        _ = FileManager.default.createFile(atPath: dir + "/etcd.log", contents: nil)
        child.process.standardOutput = FileHandle(forWritingAtPath: dir + "/etcd.log")
        child.process.standardError = FileHandle(forWritingAtPath: dir + "/etcd.log")
        child.process.standardInput = FileHandle.nullDevice
        try child.process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, child.process.isRunning {
            if let health = try? await child.post("/v3/kv/range", #"{"key":"AA=="}"#, method: .POST), health.contains("header") { return child }
            try await Task.sleep(for: .milliseconds(100))
        }
        child.stop()
        throw CLIError("etcd did not start: \((try? String(contentsOfFile: dir + "/etcd.log", encoding: .utf8)) ?? "")")
    }

    /// How many keys start with `prefix`.
    func count(prefix: String) async throws -> Int {
        var end = Array(prefix.utf8)
        end[end.count - 1] += 1
        let answer = try await post("/v3/kv/range", #"{"key":"\#(Data(prefix.utf8).base64EncodedString())","range_end":"\#(Data(end).base64EncodedString())","count_only":true}"#, method: .POST)
        guard let json = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any] else { throw CLIError("etcd answered \(answer)") }
        return Int(json["count"] as? String ?? "0") ?? 0
    }

    private func post(_ path: String, _ body: String, method: HTTPMethod) async throws -> String {
        let group = MultiThreadedEventLoopGroup.singleton
        let c = try await BenchConnection.open(BenchHTTP.Endpoint(host: "127.0.0.1", port: port), group: group)
        defer { c.channel.close(promise: nil) }
        let reply = try await c.send(method, path, body: Array(body.utf8))
        return String(buffer: reply.body)
    }

    func cpuSeconds() -> Double { processCPUSeconds(process.processIdentifier) }

    func stop() { stopChild(process) }

    /// A port nothing listens on now (bound and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLIError("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw CLIError("cannot find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

extension Array {
    func asyncCount(_ predicate: (Element) async throws -> Bool) async rethrows -> Int {
        var n = 0
        for e in self where try await predicate(e) { n += 1 }
        return n
    }
}

extension EventLoopFuture where Value: Sendable {
    /// The result, or a timeout error after `duration`.
    func timed(out duration: Duration, on loop: EventLoop) async throws -> Value {
        let promise = loop.makePromise(of: Value.self)
        let timer = loop.scheduleTask(in: .nanoseconds(Int64(duration.seconds * 1e9))) { promise.fail(CLIError("timed out")) }
        cascade(to: promise)
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }
}
