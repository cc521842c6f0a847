import Foundation
import Journal
import Testing
import TestSupport

/// Explanations that are true to the second: each of these printed something false before.
@Suite struct ExplanationTruthTests {
    func simulate(_ yaml: String, in dir: TemporaryDirectory, name: String) throws -> String {
        let file = dir.sub(name + ".yaml"), journal = dir.sub(name)
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try runKJ(["simulate", file, "--journal", journal, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        return journal
    }

    func json(_ r: ProcessResult) throws -> Any { try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) }

    /// The taint eviction controller counts a toleration from when it first finds the pod on the
    /// tainted node — not from the taint's `timeAdded`, which here is long before the pod existed.
    @Test func aTolerationIsCountedFromWhenThePodIsOnTheTaintedNode() throws {
        let dir = TemporaryDirectory()
        let journal = try simulate("""
            name: late-pod-on-a-silent-node
            cluster:
              nodes: [{name: node-1}, {name: node-2}]
            timeline:
              - at: 5s
                fault: {crash: node-2}
              - at: 3m
                apply: |
                  apiVersion: v1
                  kind: Pod
                  metadata: {name: late}
                  spec:
                    nodeName: node-2
                    tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 10}]
                    containers: [{name: c, image: nginx}]
            duration: 4m
            """, in: dir, name: "late")
        let events = try #require(try json(try runKJ(["events", "--kind", "pod", "--name", "late", "--journal", journal, "-o", "json"])) as? [[String: Any]])
        func time(_ type: String) -> Timestamp? {
            events.first { ($0["type"] as? String) == type }.flatMap { $0["time"] as? String }.flatMap { Timestamp(rfc3339: $0) }
        }
        let created = try #require(time("Created"))
        let evicted = try #require(time("NodeLifecycleDecided"), "late was never evicted: \(events.map { $0["summary"] ?? "" })")
        #expect(created.microseconds(until: evicted) == 10_000_000, "evicted \(created.microseconds(until: evicted)) µs after it was created")
    }

    @Test func aPointOutsideTheJournalIsNamedAsSuch() throws {
        let dir = TemporaryDirectory()
        let journal = try QueryCommandTests.podCreate(dir)
        for (command, text) in [
            (["get", "pods", "--at", "99999"], "revision 99999 is beyond the journal's last event (revision "),
            (["describe", "pod/nginx", "--at", "99999"], "revision 99999 is beyond the journal's last event"),
            (["get", "pods", "--at", "2020-01-01T00:00:00Z"], "2020-01-01T00:00:00Z is before the journal's first event (revision 1 at "),
            (["get", "pods", "--at", "2099-01-01T00:00:00Z"], "2099-01-01T00:00:00Z is after the journal's last event"),
            (["describe", "pod/nginx", "--at", "-999d"], "-999d is before the journal's first event"),
        ] {
            let r = try runKJ(command + ["--journal", journal])
            #expect(r.status == 1, "\(command): \(r.stdout)")
            #expect(r.stderr.contains(text) && r.stderr.split(separator: "\n").count == 1, "\(command): \(r.stderr)")
        }
    }

    @Test func describeTakesTheKindAndTheNameAsKubectlDoes() throws {
        let dir = TemporaryDirectory()
        let journal = try QueryCommandTests.podCreate(dir)
        let spaced = try runKJ(["describe", "pod", "nginx", "--journal", journal])
        let slashed = try runKJ(["describe", "pod/nginx", "--journal", journal])
        #expect(spaced.status == 0, "\(spaced.stderr)")
        #expect(spaced.stdout == slashed.stdout)
        let unknown = try runKJ(["describe", "gizmo", "nginx", "--journal", journal])
        #expect(unknown.status == 1 && unknown.stderr.contains("doesn't have a resource type \"gizmo\""), "\(unknown.stderr)")
    }

    @Test func durationsWithoutAMinusReadAsTheHelpSays() throws {
        let dir = TemporaryDirectory()
        let journal = try QueryCommandTests.podCreate(dir)
        let r = try runKJ(["diff", "30s", "10s", "--journal", journal])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("Changes from revision"), "\(r.stdout)")
    }

    @Test func aNodeDeletedAndCreatedAgainIsRemovedAndAdded() throws {
        let dir = TemporaryDirectory()
        let journal = dir.sub("journal")
        let node = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n"
        try node.write(toFile: dir.sub("node.yaml"), atomically: true, encoding: .utf8)
        #expect(try runKJ(["apply", "-f", dir.sub("node.yaml"), "--journal", journal]).status == 0)
        let stat = try #require(try JSONSerialization.jsonObject(with: Data(try runKJ(["journal", "stat", "-o", "json", "--journal", journal]).stdout.utf8)) as? [String: Any])
        let first = try #require(stat["headRevision"] as? Int)
        #expect(try runKJ(["delete", "node/n1", "--journal", journal]).status == 0)
        #expect(try runKJ(["apply", "-f", dir.sub("node.yaml"), "--journal", journal]).status == 0)
        let diff = try #require(try json(try runKJ(["diff", String(first), "--journal", journal, "-o", "json"])) as? [String: Any])
        let removed = (diff["removed"] as? [[String: Any]] ?? []).compactMap { $0["object"] as? String }
        let added = (diff["added"] as? [[String: Any]] ?? []).compactMap { $0["object"] as? String }
        let modified = (diff["modified"] as? [[String: Any]] ?? []).compactMap { $0["object"] as? String }
        #expect(removed == ["Node/n1"] && added == ["Node/n1"] && modified.isEmpty, "\(diff)")
    }
}
