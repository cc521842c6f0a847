import ArgumentParser
import ClusterModel
import ControlPlane
import Foundation
import Journal
import Queries
import Simulation

/// `kj demo`: simulates two scenarios and asks their journals what happened.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a pod's creation and a node failure, then show kj history and kj why on them.",
        discussion: """
            Runs replay/pod-create.yaml and replay/node-failure.yaml (built into kj) in virtual time, \
            each into its own journal under the demo directory, and prints the life of the nginx pod \
            and why a pod that replaced an evicted one is where it is. Without --journal the journals \
            go into a new temporary directory, which is kept and printed.
            """)

    @Option(name: .long, help: ArgumentHelp("Where to write the demo's journals (a new or empty directory).", valueName: "dir"))
    var journal: String?

    func run() async throws {
        let root = journal ?? NSTemporaryDirectory() + "kj-demo-\(getpid())"
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: root), !existing.isEmpty {
            throw CLIError("\(root) is not empty; give --journal a new directory")
        }
        let podCreate = root + "/pod-create", nodeFailure = root + "/node-failure"
        let out = FileSink.standardOutput()
        defer { try? out.close() }

        out.line(Style.bold("1. A pod is created") + " (replay/pod-create.yaml: alice creates pod nginx on a 3-node cluster)")
        out.line("""
               The request is stored as an event; the scheduler sees it, logs its decision, then binds the pod;
               the kubelet on that node pulls the image, starts the container and reports status. Every hop is
               an event with who did it and what caused it (CAUSE: the decision a write carried out; (N): the
               change that triggered a decision). ↑ marks a decision behind one of the pod's events, → what its
               events led to elsewhere.

            """)
        try await simulate(DemoScenarios.podCreate, into: podCreate)
        let history = try read(podCreate) { try ObjectHistory.load(ObjectKey(kind: Pod.kind, namespace: "default", name: "nginx"), in: $0) }
        out.line("$ kj history pod/nginx --journal \(podCreate)")
        out.write(History.render(history))

        out.line("\n" + Style.bold("2. A node fails") + " (replay/node-failure.yaml: node-2 stops heartbeating under a 3-replica Deployment)")
        out.line("""
               After 50 s of silence the node lifecycle controller marks node-2 unreachable and taints it; the
               pods there tolerate that taint for 300 s, are evicted, and the ReplicaSet creates replacements,
               which the scheduler places on the remaining nodes. kj why follows the chain of causes back.

            """)
        try await simulate(DemoScenarios.nodeFailure, into: nodeFailure)
        let (replacement, explanation) = try read(nodeFailure) { view -> (String, PodExplanation) in
            let name = try Self.replacementPod(in: view)
            return (name, try PodExplanation.explain(namespace: "default", name: name, in: view))
        }
        out.line("$ kj why pod/\(replacement) --journal \(nodeFailure)")
        out.write(Why.render(explanation))
        out.line("""

            Try next:
              kj why pod/\(replacement) --full --journal \(nodeFailure)
              kj get pods --at -10m --journal \(nodeFailure)
              kj events --actor node-lifecycle --journal \(nodeFailure)
              kj diff 2026-01-01T10:01:30Z 2026-01-01T10:02:00Z --kind node --journal \(nodeFailure)   # node-2 marked unreachable

            \(Style.bold("3. The real thing: kubectl against a live cluster whose every write is journalled"))
              kj serve --journal /tmp/live &            # Kubernetes API on https://127.0.0.1:6443, 3 simulated nodes
              export KUBECONFIG=/tmp/live/kubeconfig    # written by kj serve (admin token, its CA)
              kubectl run nginx --image=nginx && kubectl get pods -o wide
              kj why pod/nginx --journal /tmp/live      # actor: user/admin, the scheduler's decision, the kubelet's steps
              (docs/kubectl.md has the whole session)
            """)
    }

    private func simulate(_ yaml: String, into path: String) async throws {
        let journal = try Journal.open(at: path, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        let checks = try await Simulator(scenario: try Scenario(yaml: yaml), journal: journal).run()
        if let failed = checks.first(where: { !$0.passed }) {
            throw CLIError("the scenario did not go as expected: \(failed.expectation.summary): \(failed.failure ?? "")")
        }
        try journal.sync()
    }

    private func read<T>(_ path: String, _ body: (JournalView) throws -> T) throws -> T {
        let journal = try Journal.open(at: path, options: .reader)
        defer { journal.close() }
        return try journal.read(body)
    }

    /// The first pod the ReplicaSet created after an eviction.
    static func replacementPod(in view: JournalView) throws -> String {
        var evicted = false
        var found: String?
        try view.forEach(in: 1...UInt64.max) { e in
            if NodeLifecycleDecision.from(e)?.action == .evict { evicted = true }
            if evicted, e.type == WriteType.created.rawValue, e.object.kind == Pod.kind {
                found = e.object.name
                return false
            }
            return true
        }
        guard let found else { throw CLIError("the node-failure scenario replaced no pod") }
        return found
    }
}
