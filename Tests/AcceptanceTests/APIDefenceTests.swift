import Foundation
import Synchronization
import Testing
import TestSupport

extension Acceptance {
    /// `kj serve` against clients that misbehave: old TLS, silence, slowness, crowds of connections,
    /// unauthenticated uploads, floods of requests, decompression bombs and the single requests that
    /// used to crash it. The misbehaving clients are `hostile_clients.py` (plain sockets and Python's
    /// ssl module), the well-behaved ones kubectl and curl.
    @Suite(.serialized) struct APIDefenceTests {
        static let script = packageRoot + "/Tests/AcceptanceTests/hostile_clients.py"

        /// Runs one mode of the hostile clients to the end; its JSON answer.
        func hostile(_ cluster: ServedCluster, _ mode: String, _ arguments: String...) throws -> [String: Any] {
            let result = try run("/usr/bin/env", ["python3", Self.script, mode, cluster.url, cluster.journal + "/ca.crt"] + arguments)
            let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
            return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(mode): \(result.stdout)\(result.stderr)")
        }

        /// Bytes the server has read through system calls so far (sockets included), and its resident memory.
        func serverIO(_ cluster: ServedCluster) throws -> (read: Int, rss: Int) {
            let io = try String(contentsOfFile: "/proc/\(cluster.pid)/io", encoding: .utf8)
            let status = try String(contentsOfFile: "/proc/\(cluster.pid)/status", encoding: .utf8)
            func field(_ text: String, _ name: String) -> Int {
                let line = text.split(separator: "\n").first { $0.hasPrefix(name) } ?? ""
                return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
            }
            return (field(io, "rchar:"), field(status, "VmRSS:") * 1024)
        }

        @Test(.timeLimit(.minutes(5))) func tls11IsRefusedAndTls12Accepted() throws {
            let cluster = try ServedCluster()
            let old = try hostile(cluster, "tls", "1.1")
            #expect(old["accepted"] as? Bool == false, "\(old)")
            #expect((old["detail"] as? String ?? "").contains("PROTOCOL_VERSION"), "\(old)")
            let current = try hostile(cluster, "tls", "1.2")
            #expect(current["accepted"] as? Bool == true, "\(current)")
            #expect(try cluster.kubectl(["get", "nodes"]).status == 0)
        }

        @Test(.timeLimit(.minutes(10))) func silentHalfSpokenAndSlowClientsAreDropped() throws {
            let cluster = try ServedCluster(options: ["--read-header-timeout", "2s", "--read-timeout", "3s", "--idle-timeout", "4s"])
            let results = ResultBox()
            DispatchQueue.concurrentPerform(iterations: 3) { i in
                let mode = ["silent", "half-header", "slow-body"][i]
                let answer = try? (mode == "slow-body" ? hostile(cluster, mode, cluster.adminToken) : hostile(cluster, mode))
                results.set(mode, answer?["closed_after"] as? Double ?? -1)
            }
            // Each is closed at its deadline (2 s to a whole header, 3 s from header to the body's end),
            // give or take a loaded machine; today's server keeps them open forever.
            for (mode, deadline) in [("silent", 2.0), ("half-header", 2.0), ("slow-body", 3.0)] {
                let closed = results.get(mode)
                #expect(closed >= deadline - 0.5 && closed < deadline + 10, "\(mode) closed after \(closed) s")
            }
            #expect(cluster.isUp)
        }

        @Test(.timeLimit(.minutes(5))) func connectionsBeyondTheCapAreClosedAtOnceWhileOpenOnesWork() throws {
            let cluster = try ServedCluster(options: ["--max-connections", "20"])
            // One kept-alive TLS connection, then 25 idle ones: the cap leaves room for 19 of them.
            let held = try hostile(cluster, "hold", "25", "1")
            #expect(held["closed_by_server"] as? Int == 6, "\(held)")
            #expect(held["existing_answered"] as? Bool == true, "\(held)")
            #expect(cluster.isUp)
        }

        /// The issue's 19,990 idle connections exhausted the file limit; here 5,000 against a server
        /// whose soft limit is 1,024 (the usual default), which it raises to the hard limit as
        /// kube-apiserver's Go runtime does. kubectl keeps working, and the idle connections are
        /// dropped at the header deadline.
        @Test(.timeLimit(.minutes(4))) func fiveThousandIdleConnectionsLeaveKubectlWorking() throws {
            let cluster = try ServedCluster(options: ["--read-header-timeout", "20s"], fileLimit: (soft: 1024, hard: 8192))
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            holder.arguments = ["python3", Self.script, "hold", cluster.url, cluster.journal + "/ca.crt", "5000", "45"]
            let out = ChildProcesses.pipe()
            holder.standardOutput = out
            try ChildProcesses.start(holder)
            defer { if holder.isRunning { holder.terminate() } }
            var text = ""
            while !text.contains("\n"), holder.isRunning || !text.isEmpty {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            #expect(text.contains(#""open": 5000"#), "\(text)")
            let get = try cluster.kubectl(["get", "nodes", "--request-timeout=20s"])
            #expect(get.status == 0, "\(get.stderr)")
            #expect(get.stdout.contains("node-1"))
            holder.waitUntilExit()
            text += String(decoding: out.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
            #expect(text.contains(#""closed_by_server": 5000"#), "\(text)")
            #expect(cluster.isUp)
        }

        /// 100 concurrent 3 MiB uploads without a token: each is answered 401 before its client has
        /// sent it all, and the server reads little of the 300 MiB (today it reads and buffers it all).
        @Test(.timeLimit(.minutes(10))) func unauthenticatedUploadsAreRefusedBeforeTheirBodiesAreRead() throws {
            let cluster = try ServedCluster()
            let before = try serverIO(cluster)
            let result = try hostile(cluster, "unauthenticated", "100")
            let after = try serverIO(cluster)
            let codes = result["codes"] as? [String] ?? []
            #expect(codes.count == 100 && codes.allSatisfy { $0 == "401" }, "\(codes)")
            let unsent = result["unsent"] as? [Int] ?? []
            #expect(unsent.count == 100 && unsent.allSatisfy { $0 > 0 }, "every 401 came before its upload ended: \(unsent)")
            let offered = 100 * 3 * 1024 * 1024
            #expect(after.read - before.read < offered / 4, "the server read \(after.read - before.read) of \(offered) bytes")
            #expect(after.rss - before.rss < 150 << 20, "resident memory grew by \((after.rss - before.rss) >> 20) MiB")
            #expect(cluster.isUp)
        }

        @Test(.timeLimit(.minutes(10))) func theInFlightLimitAnswers429ButNotToMastersOrWatches() throws {
            let cluster = try ServedCluster(withViewer: true, options: ["--max-mutating-requests-inflight", "1", "--max-requests-inflight", "1"])
            // A create whose body never ends holds the one mutating place until the read deadline.
            let slow = Process()
            slow.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            slow.arguments = ["python3", Self.script, "slow-body", cluster.url, cluster.journal + "/ca.crt", cluster.userToken]
            slow.standardOutput = FileHandle.nullDevice
            try ChildProcesses.start(slow)
            defer { slow.terminate() }
            let namespace = #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"NAME"}}"#
            // Until the slow create holds the place, deleting nothing is a 404; then it is a 429.
            _ = try cluster.eventually(30, "the slow create to hold the mutating place") {
                try cluster.curl("DELETE", "/api/v1/namespaces/nothing", token: cluster.userToken).code == 429
            }
            let refused = try run("/usr/bin/env", ["curl", "-s", "-i", "--cacert", cluster.journal + "/ca.crt", "-H", "Authorization: Bearer \(cluster.userToken)",
                                                   "-H", "Content-Type: application/json", "--data-binary", namespace.replacingOccurrences(of: "NAME", with: "refused"),
                                                   cluster.url + "/api/v1/namespaces"]).stdout
            #expect(refused.hasPrefix("HTTP/1.1 429"), "\(refused)")
            #expect(refused.lowercased().contains("retry-after: 1\r\n"), "\(refused)")
            #expect(refused.contains(#""reason":"TooManyRequests""#) && refused.contains("Too many requests, please try again later."), "\(refused)")
            // system:masters is always answered.
            #expect(try cluster.curl("POST", "/api/v1/namespaces", token: cluster.adminToken, body: namespace.replacingOccurrences(of: "NAME", with: "by-admin")).code == 201)
            // Watches are long-running: two open watches leave the one read place free.
            let watches = (0..<2).map { _ in
                let watch = Process()
                watch.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                watch.arguments = ["curl", "-s", "-N", "--cacert", cluster.journal + "/ca.crt", "-H", "Authorization: Bearer \(cluster.userToken)", "-m", "20",
                                   cluster.url + "/api/v1/namespaces?watch=1"]
                watch.standardOutput = FileHandle.nullDevice
                try? ChildProcesses.start(watch)
                return watch
            }
            defer { watches.forEach { $0.terminate() } }
            #expect(try cluster.curl("GET", "/api/v1/namespaces", token: cluster.userToken).code == 200)
            #expect(try cluster.curl("GET", "/api/v1/namespaces/refused", token: cluster.adminToken).code == 404, "a refused create wrote nothing")
            // Stopping does not wait for the create that is still arriving.
            let stopping = ContinuousClock.now
            #expect(cluster.stop() == 0)
            #expect(ContinuousClock.now - stopping < .seconds(20))
        }

        /// go-yaml's classic "billion laughs": nine levels of nine aliases, and the same as a mapping key.
        static func aliasBomb(asKey: Bool) -> String {
            var lines = ["apiVersion: v1", "kind: Pod", "metadata: {name: lol}", #"a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
            let names = Array("abcdefghi")
            for i in 1..<9 { lines.append("\(names[i]): &\(names[i]) [" + Array(repeating: "*\(names[i - 1])", count: 9).joined(separator: ",") + "]") }
            if asKey { lines.append("? *i\n: 1") }
            return lines.joined(separator: "\n") + "\n"
        }

        @Test(.timeLimit(.minutes(5))) func aliasBombsAndDeepNestingAreRefusedAtOnce() throws {
            let cluster = try ServedCluster()
            let pods = "/api/v1/namespaces/default/pods"
            for bomb in [Self.aliasBomb(asKey: false), Self.aliasBomb(asKey: true)] {
                let file = cluster.directory.sub("bomb.yaml")
                try bomb.write(toFile: file, atomically: true, encoding: .utf8)
                let r = try run("/usr/bin/env", ["curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "--cacert", cluster.journal + "/ca.crt",
                                                 "-H", "Authorization: Bearer \(cluster.adminToken)", "-H", "Content-Type: application/yaml",
                                                 "--data-binary", "@" + file, cluster.url + pods])
                let parts = r.stdout.split(separator: " ")
                #expect(parts.first == "400", "\(r.stdout)")
                // The issue's bound is 100 ms; the answer takes a few ms on an idle machine.
                #expect((Double(parts.last ?? "") ?? 99) < 0.1, "answered in \(r.stdout) s")
            }
            let answer = try cluster.curl("POST", pods, token: cluster.adminToken, contentType: "application/yaml", body: Self.aliasBomb(asKey: false))
            #expect(answer.body.contains("document contains excessive aliasing"), "\(answer.body)")
            let deepYAML = cluster.directory.sub("deep.yaml"), deepJSON = cluster.directory.sub("deep.json")
            try (String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).write(toFile: deepYAML, atomically: true, encoding: .utf8)
            try ("{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}").write(toFile: deepJSON, atomically: true, encoding: .utf8)
            #expect(try cluster.curl("POST", pods, token: cluster.adminToken, contentType: "application/yaml", bodyFile: deepYAML).code == 400)
            #expect(try cluster.curl("POST", pods, token: cluster.adminToken, bodyFile: deepJSON).code == 400)
            #expect(cluster.isUp)
        }

        /// Requests that each brought the server down on their own, and what they are answered now.
        static let crashers: [(request: String, code: String)] = [
            // A watch that asks to last 2^63 - 1 seconds starts (and ends when the client goes).
            ("/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=9223372036854775807", "200"),
            ("/kj/v1/events?follow=1&timeoutSeconds=9223372036854775807", "200"),
            ("/api/v1/pods?=&&=x", "200"),
            ("/kj/v1/events?limit=-1", "400"),
            // The longest grace period Go's durations hold (292 years) is what the pod gets.
            ("DELETE /api/v1/namespaces/default/pods/p?gracePeriodSeconds=9223372036854775807", "200"),
        ]

        @Test(.timeLimit(.minutes(5)), arguments: 0..<crashers.count)
        func aRequestThatCrashedTheServerIsAnswered(_ index: Int) throws {
            let cluster = try ServedCluster()
            let admin = cluster.adminToken
            let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#
            #expect(try cluster.curl("POST", "/api/v1/namespaces/default/pods", token: admin, body: pod).code == 201)
            _ = try cluster.eventually(30, "the pod to be bound") { try cluster.curl("GET", "/api/v1/namespaces/default/pods/p", token: admin).body.contains("nodeName") }

            let (request, code) = Self.crashers[index]
            let parts = request.split(separator: " ")
            let (method, path) = parts.count == 2 ? (String(parts[0]), String(parts[1])) : ("GET", request)
            let answer = try run("/usr/bin/env", ["curl", "-s", "-m", "2", "-X", method, "-w", "\n%{http_code}", "--cacert", cluster.journal + "/ca.crt",
                                                  "-H", "Authorization: Bearer \(admin)", cluster.url + path])
            #expect(answer.stdout.hasSuffix("\n" + code), "\(request): \(answer.stdout.suffix(300))")
            if method == "DELETE" { #expect(answer.stdout.contains(#""deletionGracePeriodSeconds":9223372036"#), "\(answer.stdout)") }
            #expect(cluster.isUp, "\(request)")
            #expect(try cluster.kubectl(["get", "pods"]).status == 0)
        }

        @Test(.timeLimit(.minutes(5))) func theFilesTheServerMakesArePrivate() throws {
            let cluster = try ServedCluster()
            func mode(_ path: String) throws -> Int {
                try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            }
            #expect(try mode(cluster.journal) == 0o700)
            for file in ["tokens.csv", "ca.key", "ca.crt", "kubeconfig", "serve.lock"] {
                #expect(try mode(cluster.journal + "/" + file) == 0o600, "\(file)")
            }
        }
    }
}

/// Results gathered from concurrent work.
final class ResultBox: Sendable {
    private let values = Mutex<[String: Double]>([:])

    func set(_ key: String, _ value: Double) { values.withLock { $0[key] = value } }
    func get(_ key: String) -> Double { values.withLock { $0[key] ?? -1 } }
}
