import ClusterModel
import Foundation
import Journal
import Simulation
import Testing
import TestSupport

/// Node heartbeats as Kubernetes has made them since 1.17: each kubelet renews a Lease in
/// `kube-node-lease` every 10 s and posts its node's status only when it changed, or every 5 min;
/// the node lifecycle controller counts either as a sign of life.
@Suite struct NodeLeaseTests {
    /// Twelve minutes of two nodes, a pod pulling a new image on node-1 at 30 s.
    static func run(_ dir: TemporaryDirectory) async throws -> (events: [Event], start: Timestamp) {
        let yaml = """
            name: node-leases
            seed: 11
            duration: 12m
            cluster:
              nodes:
              - {name: node-1, cpu: "4", memory: 8Gi}
              - {name: node-2, cpu: "4", memory: 8Gi}
            timeline:
            - at: 30s
              apply: |
                apiVersion: v1
                kind: Pod
                metadata: {name: web}
                spec:
                  nodeName: node-1
                  containers: [{name: web, image: "web:2"}]
            """
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        let scenario = try Scenario(yaml: yaml)
        try await Simulator(scenario: scenario, journal: journal).run()
        return (try journal.read { try $0.events(in: 1...UInt64.max) }, scenario.start)
    }

    @Test func eachKubeletRenewsItsLeaseEveryTenSecondsAndPostsStatusOnlyWhenItChangedOrEveryFiveMinutes() async throws {
        let dir = TemporaryDirectory()
        let (events, start) = try await Self.run(dir)
        func seconds(_ e: Event) -> Int64 { (e.time.microseconds - start.microseconds) / 1_000_000 }
        let kubelet = Actor(kind: "kubelet", name: "node-1")

        // The lease: made at registration, held by the node, owned by the Node, renewed every 10 s.
        let leaseWrites = events.filter { $0.object.kind == Lease.kind && $0.object.namespace == Lease.nodeLeaseNamespace && $0.object.name == "node-1" }
        #expect(leaseWrites.allSatisfy { $0.actor == kubelet })
        #expect(leaseWrites.first?.type == "Created")
        let renewals = leaseWrites.map(seconds)
        #expect(renewals.count == 73, "\(renewals)")
        #expect(zip(renewals, renewals.dropFirst()).allSatisfy { $1 - $0 == 10 }, "\(renewals)")
        let last = try #require(leaseWrites.last)
        let lease = try ValueDecoder(strict: false).decode(Lease.self, from: try JSONValue.parse(last.data))
        #expect(lease.spec?.holderIdentity == "node-1")
        #expect(lease.spec?.leaseDurationSeconds == 40)
        #expect(lease.spec?.renewTime == last.time.rfc3339)
        let node = try #require(events.last { $0.object.kind == Node.kind && $0.object.name == "node-1" })
        #expect(lease.metadata.ownerReferences?.map(\.uid) == [node.object.uid], "the Lease goes with its Node")

        // Status: registered at 0 s; posted again at 32 s, when the pulled image made it change; then
        // unchanged, every five minutes from the last post.
        let statusPosts = events.filter { $0.actor == kubelet && $0.object.kind == Node.kind && ["Created", "StatusUpdated"].contains($0.type) }.map(seconds)
        #expect(statusPosts.count < 6, "\(statusPosts)")
        #expect(statusPosts.first == 0)
        let unchanged = zip(statusPosts.dropFirst(), statusPosts.dropFirst(2)).map { $1 - $0 }
        #expect(!unchanged.isEmpty && unchanged.allSatisfy { $0 == 300 }, "\(statusPosts)")
        let image = events.first { $0.actor == kubelet && $0.type == "StatusUpdated" && $0.object.kind == Node.kind && String(decoding: $0.data, as: UTF8.self).contains("web:2") }
        #expect(image.map(seconds).map { $0 < 60 } == true, "the pulled image is reported at the next heartbeat: \(statusPosts)")

        // Minutes without a posted status, yet neither node is ever found silent: the controller reads the leases.
        let silent = events.filter { $0.type == "NodeLifecycleDecided" && String(decoding: $0.data, as: UTF8.self).contains("mark-unreachable") }
        #expect(silent.isEmpty, "\(silent.map { "\($0.revision) \($0.object.name)" })")
    }

    /// A node that stops renewing its lease (a partition) is Unknown 50 s after its last renewal.
    @Test func aNodeWhoseLeaseLapsesIsMarkedUnreachableFromItsLastRenewal() async throws {
        let yaml = """
            name: lease-lapses
            seed: 5
            duration: 3m
            cluster:
              nodes:
              - {name: node-1, cpu: "4", memory: 8Gi}
            timeline:
            - at: 45s
              fault: {partition: node-1}
            """
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        let scenario = try Scenario(yaml: yaml)
        try await Simulator(scenario: scenario, journal: journal).run()
        let events = try journal.read { try $0.events(in: 1...UInt64.max) }
        let marked = try #require(events.first { $0.type == "NodeLifecycleDecided" && String(decoding: $0.data, as: UTF8.self).contains("mark-unreachable") })
        let renewal = try #require(events.last { $0.object.kind == Lease.kind && $0.object.name == "node-1" && $0.revision < marked.revision })
        #expect(renewal.time.microseconds(until: marked.time) > 50_000_000)
        #expect(renewal.time.microseconds(until: marked.time) <= 60_000_000)
        #expect(try JSONValue.parse(marked.data)["lastHeartbeat"]?.stringValue == renewal.time.rfc3339, "the silence is counted from the last renewal")
        // The silence is owed to the partition injected after that renewal: its trigger.
        #expect(events.first { $0.revision == marked.trigger }?.type == "FaultInjected")
    }
}
