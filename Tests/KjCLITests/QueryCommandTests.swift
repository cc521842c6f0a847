import Foundation
import Testing
import TestSupport

/// `kj events`, `diff`, `describe`, `get --at` and the query commands' errors, run as a user runs
/// them: the built binary on a simulated journal.
@Suite struct QueryCommandTests {
    /// pod-create: alice creates nginx at revision 16; it is bound at 18 and Running at 26.
    static func podCreate(_ dir: TemporaryDirectory) throws -> String {
        let journal = dir.sub("pod-create")
        let r = try runKJ(["simulate", packageRoot + "/replay/pod-create.yaml", "--journal", journal, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        return journal
    }

    @Test func anUnknownPodIsOneLineWithSuggestionsAndAnExitCode() throws {
        let dir = TemporaryDirectory()
        let journal = try Self.podCreate(dir)
        for command in [["why", "pod/ngin"], ["history", "pod/ngin"], ["describe", "pod/ngin"]] {
            let r = try runKJ(command + ["--journal", journal])
            #expect(r.status != 0)
            #expect(r.stdout.isEmpty)
            #expect(r.stderr == "Error: pod default/ngin not found in the journal (it never existed; did you mean nginx?)\n", "\(command)")
        }
        let wrongNamespace = try runKJ(["why", "pod/nginx", "-n", "prod", "--journal", journal])
        #expect(wrongNamespace.status != 0)
        #expect(wrongNamespace.stderr.split(separator: "\n").count == 1)
        #expect(wrongNamespace.stderr.contains("pod prod/nginx not found in the journal"))
    }

    @Test func eventsFilterByActorTypeKindNameAndRevisions() throws {
        let dir = TemporaryDirectory()
        let journal = try Self.podCreate(dir)
        let byAlice = try runKJ(["events", "--actor", "alice", "--journal", journal, "-o", "json"])
        let aliceEvents = try #require(try JSONSerialization.jsonObject(with: Data(byAlice.stdout.utf8)) as? [[String: Any]])
        #expect(aliceEvents.map { $0["revision"] as? Int } == [29])
        #expect(aliceEvents.first?["object"] as? String == "Pod/default/nginx")

        let decisions = try runKJ(["events", "--type", "SchedulingDecided,Bound", "--journal", journal])
        let rows = decisions.stdout.split(separator: "\n").dropFirst()
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { $0.contains("scheduler/default-scheduler") })

        let ofNginx = try runKJ(["events", "--kind", "pod", "--name", "nginx", "--from", "31", "--to", "39", "--journal", journal, "-o", "json"])
        let revisions = try #require(try JSONSerialization.jsonObject(with: Data(ofNginx.stdout.utf8)) as? [[String: Any]]).compactMap { $0["revision"] as? Int }
        #expect(!revisions.isEmpty)
        #expect(revisions == revisions.sorted())
        #expect(revisions.allSatisfy { (31...39).contains($0) })
        #expect(revisions.first == 31 && revisions.last == 39)

        let limited = try runKJ(["events", "--limit", "3", "--journal", journal, "-o", "json"])
        #expect(try #require(try JSONSerialization.jsonObject(with: Data(limited.stdout.utf8)) as? [Any]).count == 3)
    }

    @Test func followPrintsEventsAppendedAfterItStarted() throws {
        let dir = TemporaryDirectory()
        let journal = try Self.podCreate(dir)
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: kjExecutable)
        follower.arguments = ["events", "--follow", "--kind", "pod", "--from", "40", "--journal", journal, "-o", "json"]
        let out = ChildProcesses.pipe()
        follower.standardOutput = out
        try ChildProcesses.start(follower)
        defer { if follower.isRunning { follower.terminate() } }

        let manifest = dir.sub("pod.yaml")
        try "apiVersion: v1\nkind: Pod\nmetadata: {name: late}\nspec: {containers: [{name: c, image: busybox}]}\n"
            .write(toFile: manifest, atomically: true, encoding: .utf8)
        let applied = try runKJ(["apply", "-f", manifest, "--as", "carol", "--journal", journal])
        #expect(applied.status == 0, "\(applied.stderr)")

        let line = try #require(readLine(from: out.fileHandleForReading, of: follower, containing: "\"Pod/default/late\"", within: 20))
        let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(event["actor"] as? String == "user/carol")
        #expect(event["type"] as? String == "Created")
        #expect((event["revision"] as? Int ?? 0) > 41)
    }

    @Test func diffShowsAddedAndModifiedObjectsWithTheirFields() throws {
        let dir = TemporaryDirectory()
        let journal = try Self.podCreate(dir)
        let table = try runKJ(["diff", "28", "31", "--kind", "pod", "--journal", journal])
        #expect(table.stdout.contains("1 added, 0 removed, 0 modified"), "\(table.stdout)")
        #expect(table.stdout.contains("+ Pod/default/nginx"))

        let modified = try runKJ(["diff", "31", "39", "--kind", "pod", "--journal", journal, "-o", "json"])
        let diff = try #require(try JSONSerialization.jsonObject(with: Data(modified.stdout.utf8)) as? [String: Any])
        let text = modified.stdout
        #expect(text.contains("status.phase"), "\(diff)")
        #expect(text.contains("Running"))

        let backwards = try runKJ(["diff", "39", "31", "--journal", journal])
        #expect(backwards.status != 0)
        #expect(backwards.stderr.contains("is after the second"))
    }

    @Test func describeAndGetShowAPastStateWithItsEvents() throws {
        let dir = TemporaryDirectory()
        let journal = try Self.podCreate(dir)
        let now = try runKJ(["describe", "pod/nginx", "--journal", journal])
        #expect(now.status == 0)
        for fact in ["Node:           node-2", "Status:         Running", "Scheduled", "Pulled", "Started"] {
            #expect(now.stdout.contains(fact), "\(fact)")
        }
        let events = now.stdout.components(separatedBy: "Events:").last ?? ""
        #expect(events.range(of: "Scheduled")!.lowerBound < events.range(of: "Pulling")!.lowerBound, "events in the order they happened")

        // Revision 34: the kubelet has reported ContainerCreating; nothing has been pulled yet.
        let then = try runKJ(["describe", "pod/nginx", "--at", "34", "--journal", journal])
        #expect(then.stdout.contains("Status:         Pending"), "\(then.stdout)")
        #expect(then.stdout.contains("Journal:        revision 34"))
        #expect(!then.stdout.contains("Started container"))

        let minuteBefore = try runKJ(["get", "pods", "--at", "-65s", "--journal", journal])
        #expect(minuteBefore.status == 0, "\(minuteBefore.stderr)")
        #expect(minuteBefore.stdout.contains("nginx") && minuteBefore.stdout.contains("ContainerCreating"), "\(minuteBefore.stdout)")
    }

    /// While `kj simulate` writes, every query from another process answers as of one revision:
    /// what it saw then is exactly what `--at` that revision shows afterwards.
    @Test func queriesDuringASimulationSeeOneConsistentRevision() throws {
        let dir = TemporaryDirectory()
        let scenario = dir.sub("churn.yaml")
        try Self.churn.write(toFile: scenario, atomically: true, encoding: .utf8)
        let journal = dir.sub("journal")
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: kjExecutable)
        writer.arguments = ["simulate", scenario, "--journal", journal, "--quiet"]
        writer.standardOutput = FileHandle.nullDevice
        try ChildProcesses.start(writer)
        defer { if writer.isRunning { writer.terminate() } }

        var seen: [(revision: String, output: String)] = []
        while writer.isRunning {
            let r = try runKJ(["get", "pods", "-o", "json", "--journal", journal])
            guard r.status == 0 else { continue }  // the simulation has not created the journal yet
            let list = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let revision = try #require((list["metadata"] as? [String: Any])?["resourceVersion"] as? String)
            for item in list["items"] as? [[String: Any]] ?? [] {
                let rv = UInt64((item["metadata"] as? [String: Any])?["resourceVersion"] as? String ?? "") ?? .max
                #expect(rv <= UInt64(revision)!, "an object newer than the revision the list is at")
            }
            seen.append((revision, r.stdout))
            let history = try runKJ(["history", "deployment/web", "-o", "json", "--journal", journal])
            #expect(history.status == 0 || history.stderr.contains("not found"), "\(history.stderr)")
        }
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0)

        let head = try runKJ(["journal", "stat", "-o", "json", "--journal", journal])
        let headRevision = try #require(try JSONSerialization.jsonObject(with: Data(head.stdout.utf8)) as? [String: Any])["headRevision"] as? Int
        let midWrite = seen.filter { Int($0.revision)! < headRevision! && Int($0.revision)! > 100 }
        #expect(Set(midWrite.map(\.revision)).count >= 2, "the queries should have overlapped the writes (saw \(seen.map(\.revision)))")
        for (revision, output) in midWrite.prefix(4) {
            let later = try runKJ(["get", "pods", "-o", "json", "--at", revision, "--journal", journal])
            #expect(later.stdout == output, "the list read at revision \(revision) while writing differs from --at \(revision)")
        }
    }

    static let churn = """
        name: churn
        seed: 3
        duration: 16m
        cluster:
          nodes:
          - {namePrefix: node-, count: 40, cpu: "16", memory: 64Gi}
        timeline:
        - at: 5s
          apply: |
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: 400
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers: [{name: nginx, image: "nginx:1.27", resources: {requests: {cpu: 10m}}}]
        - at: 5m
          scale: deployment/web
          replicas: 50
        - at: 10m
          setImage: deployment/web
          image: "nginx:1.28"
        - at: 12m
          scale: deployment/web
          replicas: 500
        """
}
