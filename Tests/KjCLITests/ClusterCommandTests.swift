import Foundation
import Journal
import Testing
import TestSupport

@Suite struct ClusterCommandTests {
    static let manifest = """
        apiVersion: v1
        kind: Pod
        metadata: {name: first, labels: {app: web}}
        spec: {containers: [{name: c, image: "nginx:1.27"}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {selector: {app: web}, ports: [{port: 80}]}
        """

    func write(_ text: String, _ dir: TemporaryDirectory, _ name: String) throws -> String {
        let path = dir.sub(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func getAtARevisionShowsThePodsThatExistedThen() throws {
        let dir = TemporaryDirectory()
        let j = dir.sub("j")
        let first = try write(Self.manifest, dir, "first.yaml")
        let applied = try runKJ(["apply", "-f", first, "--journal", j, "--as", "alice"])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout == "pod/first created\nservice/web created\n")
        let afterFirst = try Journal.open(at: j, options: .reader).withClose { try $0.head().revision }

        let second = try write("apiVersion: v1\nkind: Pod\nmetadata: {name: second}\nspec: {containers: [{name: c, image: busybox}]}", dir, "second.yaml")
        #expect(try runKJ(["apply", "-f", second, "--journal", j]).status == 0)
        let deleted = try runKJ(["delete", "pod/first", "--journal", j])
        #expect(deleted.stdout == "pod \"first\" deleted\n")

        let now = try runKJ(["get", "pods", "--journal", j])
        #expect(now.stdout.contains("second") && !now.stdout.contains("first"))
        let then = try runKJ(["get", "pods", "--journal", j, "--at", String(afterFirst)])
        #expect(then.status == 0)
        let lines = then.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NAME    READY   STATUS    RESTARTS   AGE") == true, "\(then.stdout)")
        #expect(lines.count == 2 && lines[1].hasPrefix("first   0/1     Pending   0"))
        let before = try runKJ(["get", "pods", "--journal", j, "--at", "1"])
        #expect(before.stderr.contains("No resources found in default namespace at revision 1."))
        let json = try runKJ(["get", "pod", "first", "-o", "json", "--journal", j, "--at", String(afterFirst)])
        #expect(json.stdout.contains("\"resourceVersion\": \"\(afterFirst - 1)\""))
        let gone = try runKJ(["get", "pod", "first", "--journal", j])
        #expect(gone.status != 0 && gone.stderr.contains("pods \"first\" not found"))
    }

    @Test func applyTwiceIsUnchangedAndEditsAreConfigured() throws {
        let dir = TemporaryDirectory()
        let j = dir.sub("j")
        let path = try write(Self.manifest, dir, "m.yaml")
        #expect(try runKJ(["apply", "-f", path, "--journal", j]).status == 0)
        #expect(try runKJ(["apply", "-f", path, "--journal", j]).stdout == "pod/first unchanged\nservice/web unchanged\n")
        _ = try write(Self.manifest.replacingOccurrences(of: "nginx:1.27", with: "nginx:1.28"), dir, "m.yaml")
        #expect(try runKJ(["apply", "-f", path, "--journal", j]).stdout == "pod/first configured\nservice/web unchanged\n")
        let wide = try runKJ(["get", "svc", "-o", "wide", "--journal", j])
        #expect(wide.stdout.contains("SELECTOR") && wide.stdout.contains("app=web"))
    }

    @Test func badManifestsAreOneLineErrorsAndWriteNothing() throws {
        let dir = TemporaryDirectory()
        let j = dir.sub("j")
        #expect(try runKJ(["apply", "-f", try write(Self.manifest, dir, "ok.yaml"), "--journal", j]).status == 0)
        let head = try Journal.open(at: j, options: .reader).withClose { try $0.head().revision }
        let bad = try write("apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, image: x}]}", dir, "bad.yaml")
        let result = try runKJ(["apply", "-f", bad, "--journal", j])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("Error: Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\""))
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(try Journal.open(at: j, options: .reader).withClose { try $0.head().revision } == head)
    }
}

extension Journal {
    /// Runs `body`, then closes the journal.
    func withClose<T>(_ body: (Journal) throws -> T) rethrows -> T {
        defer { close() }
        return try body(self)
    }
}
