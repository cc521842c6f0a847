import ClusterModel
import ControlPlane
import Journal
import Queries
import Scheduler
import Simulation
import Testing
import TestSupport

/// `kj why --full` re-runs a decision with the seed the live scheduler used — also for a journal
/// that did not start as a cluster (no `ClusterInitialized`), whose seed comes from its cluster id.
@Suite struct ReplaySeedTests {
    @Test func whyFullBreaksTiesAsTheLiveSchedulerDidOnAJournalWithoutClusterInitialized() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync, clusterID: "an-imported-sample"))
        defer { journal.close() }
        // The journal's first event is a Node, as in a sample imported from elsewhere.
        let node = #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n0","uid":"uid-n0"},"spec":{"unschedulable":true}}"#
        _ = try await journal.append([EventDraft(
            time: Timestamp(seconds: 1_767_261_600), type: WriteType.created.rawValue, actor: Actor(kind: "user", name: "importer"),
            object: ObjectRef(kind: "Node", name: "n0", uid: "uid-n0"), data: Array(node.utf8))])
        let clock = ManualClock(Timestamp(seconds: 1_767_261_660))
        let store = try await Store.open(journal: journal, clock: clock)
        #expect(store.seed != 0)
        let alice = Store.Origin(.user("alice"))
        _ = try await store.create(Namespace(name: "default"), by: alice)
        for name in ["node-a", "node-b", "node-c"] {
            var n = Node(metadata: ObjectMeta(name: name))
            let capacity: [String: Quantity] = ["cpu": Quantity(4), "memory": Quantity(8 << 30, format: .binarySI), "pods": Quantity(110)]
            n.status = NodeStatus(capacity: capacity, allocatable: capacity)
            _ = try await store.create(n, by: alice)
        }
        let driver = try Driver(store: store, components: [SchedulerComponent(seed: store.seed)], kubelets: nil, now: { clock.now() })
        try await driver.prime()
        for i in 0..<12 {
            _ = try await store.create(Pod(metadata: ObjectMeta(name: "p\(i)"), spec: PodSpec(containers: [Container(name: "c", image: "nginx")])), by: alice)
            try await driver.settle()
        }
        var tieBreaks = 0
        try journal.read { view in
            for i in 0..<12 {
                let explanation = try PodExplanation.explain(namespace: "default", name: "p\(i)", full: true, in: view)
                #expect(explanation.rerun?.agrees == true, "p\(i): the re-run picked another node")
                if (explanation.decision?.tied ?? 0) > 1 { tieBreaks += 1 }
            }
        }
        #expect(tieBreaks >= 4, "too few ties to tell the seeds apart")
    }
}
