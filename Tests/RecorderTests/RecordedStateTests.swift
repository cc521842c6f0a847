import ClusterModel
import ControlPlane
import Foundation
import Journal
import Recorder
import TestSupport
import Testing

@Suite struct RecordedStateTests {
    let t0 = Timestamp(rfc3339: "2026-03-01T10:00:00Z")!

    func pod(_ rv: String, node: String? = nil, phase: String? = nil, deleting: Bool = false, managers: [(String, String, String?)] = []) -> JSONValue {
        var metadata: [String: JSONValue] = ["name": "web-1", "namespace": "default", "uid": "u-1", "resourceVersion": .string(rv)]
        if deleting { metadata["deletionTimestamp"] = "2026-03-01T10:05:00Z" }
        if !managers.isEmpty {
            metadata["managedFields"] = .array(managers.map { m, time, sub in
                var e: [String: JSONValue] = ["manager": .string(m), "time": .string(time), "operation": "Update"]
                if let sub { e["subresource"] = .string(sub) }
                return .object(e)
            })
        }
        var spec: [String: JSONValue] = ["containers": [["name": "c", "image": "nginx"]]]
        if let node { spec["nodeName"] = .string(node) }
        var o: [String: JSONValue] = ["metadata": .object(metadata), "spec": .object(spec)]
        if let phase { o["status"] = ["phase": .string(phase)] }
        return .object(o)
    }

    @Test func aWatchedPodsLifeBecomesTheWritesItMustHaveBeen() throws {
        var state = RecordedState()
        let createdSeen = state.observe("ADDED", pod("10", managers: [("kubectl-create", "2026-03-01T10:00:00Z", nil)]), kind: .pod, at: t0)
        let created = try #require(createdSeen)
        #expect(created.type == "Created")
        #expect(created.actor == Actor(kind: "fieldManager", name: "kubectl-create"))
        #expect(created.request == "rv:10")
        #expect(created.object == ObjectRef(kind: "Pod", namespace: "default", name: "web-1", uid: "u-1"))
        let data = try JSONValue.parse(created.data)
        #expect(data["metadata"]?["resourceVersion"] == nil, "the journal's revision is the resourceVersion on read")
        #expect(data["kind"] == "Pod" && data["apiVersion"] == "v1", "a list's items have no kind; the journal's objects do")

        // The same version again (a watch resumed from an older resourceVersion): nothing new.
        #expect(state.observe("MODIFIED", pod("10", managers: [("kubectl-create", "2026-03-01T10:00:00Z", nil)]), kind: .pod, at: t0) == nil)

        let boundSeen = state.observe("MODIFIED", pod("11", node: "node-2", managers: [("kubectl-create", "2026-03-01T10:00:00Z", nil)]), kind: .pod, at: t0)

        let bound = try #require(boundSeen)
        #expect(bound.type == "Bound")
        #expect(bound.actor == RecordedState.unknownActor, "a binding leaves managedFields as they were: its author is unknown")

        let running = pod("12", node: "node-2", phase: "Running",
                          managers: [("kubectl-create", "2026-03-01T10:00:00Z", nil), ("kubelet", "2026-03-01T10:00:03Z", "status")])
        let statusSeen = state.observe("MODIFIED", running, kind: .pod, at: t0)
        let status = try #require(statusSeen)
        #expect(status.type == "StatusUpdated")
        #expect(status.actor == Actor(kind: "kubelet", name: "node-2"))

        let deletingSeen = state.observe("MODIFIED", pod("13", node: "node-2", phase: "Running", deleting: true), kind: .pod, at: t0)

        let deleting = try #require(deletingSeen)
        #expect(deleting.type == "DeletionStarted")

        let deletedSeen = state.observe("DELETED", pod("14", node: "node-2", phase: "Running", deleting: true), kind: .pod, at: t0)

        let deleted = try #require(deletedSeen)
        #expect(deleted.type == "Deleted" && deleted.actor == RecordedState.unknownActor)
        #expect(state.count(of: .pod) == 0)
        #expect(state.resumeFrom["Pod"] == "14")
    }

    @Test func aSpecChangeIsAnUpdateByTheNewestManager() throws {
        var state = RecordedState()
        _ = state.observe("ADDED", pod("5", node: "n", managers: [("kubectl-create", "2026-03-01T10:00:00Z", nil)]), kind: .pod, at: t0)
        var changed = pod("6", node: "n", managers: [("kubectl-create", "2026-03-01T10:00:00Z", nil), ("kubectl-label", "2026-03-01T10:01:00Z", nil)])
        changed = changed.setting(["metadata", "labels"], to: ["tier": "web"])
        let updateSeen = state.observe("MODIFIED", changed, kind: .pod, at: t0)
        let update = try #require(updateSeen)
        #expect(update.type == "Updated")
        #expect(update.actor == Actor(kind: "fieldManager", name: "kubectl-label"))

        // Entries are not in time order and carry seconds only: the writer is the one whose entry changed.
        var annotated = pod("7", node: "n", managers: [("kube-controller-manager", "2026-03-01T10:01:00Z", nil), ("kubectl-create", "2026-03-01T10:00:00Z", nil),
                                                        ("kubectl-label", "2026-03-01T10:01:00Z", nil)])
        annotated = annotated.setting(["metadata", "labels"], to: ["tier": "web"]).setting(["metadata", "annotations"], to: ["revision": "1"])
        #expect(state.observe("MODIFIED", annotated, kind: .pod, at: t0)?.actor == Actor(kind: "controller", name: "kube-controller-manager"))
    }

    @Test func aListAfterAGapJournalsWhatChangedAndWhatWentUnseen() throws {
        var state = RecordedState()
        func named(_ name: String, _ rv: String, replicas: Int64 = 1) -> JSONValue {
            ["metadata": ["name": .string(name), "namespace": "default", "resourceVersion": .string(rv)], "spec": ["replicas": .int(replicas)]]
        }
        _ = state.relist(.deployment, items: [named("a", "3"), named("b", "4")], resourceVersion: "4", at: t0)
        #expect(state.count(of: .deployment) == 2)
        let (drafts, deleted) = state.relist(.deployment, items: [named("a", "9", replicas: 3), named("c", "8")], resourceVersion: "12", at: t0)
        #expect(deleted == 1)
        #expect(drafts.map { "\($0.type) \($0.object.name) \($0.actor)" } == ["Updated a unknown/watch", "Created c unknown/watch", "Deleted b unknown/watch"])
        #expect(drafts.last?.request == "rv:12", "a deletion seen only by its absence is dated by the list")
        #expect(state.resumeFrom["Deployment"] == "12")
        // Nothing changed since: a list at the same point journals nothing.
        #expect(state.relist(.deployment, items: [named("a", "9", replicas: 3), named("c", "8")], resourceVersion: "12", at: t0).drafts.isEmpty)
    }

    /// A pod deleted and made again under its name while no watch was open: the list shows
    /// another uid, so the one held is journalled as deleted before the new one is created.
    @Test func anotherIncarnationAtARelistIsADeletionAndACreation() throws {
        var state = RecordedState()
        _ = state.relist(.pod, items: [pod("10")], resourceVersion: "10", at: t0)
        let reborn = pod("30").setting(["metadata", "uid"], to: "u-2")
        let (drafts, deleted) = state.relist(.pod, items: [reborn], resourceVersion: "31", at: t0)
        #expect(drafts.map { "\($0.type) \($0.object.uid)" } == ["Deleted u-1", "Created u-2"])
        #expect(deleted == 1)
    }

    @Test func aRecordingCarriesOnWhereItsJournalEnds() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path)
        defer { journal.close() }
        var state = RecordedState()
        var drafts = state.relist(.pod, items: [pod("20")], resourceVersion: "21", at: t0).drafts
        let bound = state.observe("MODIFIED", pod("25", node: "node-1"), kind: .pod, at: t0)
        drafts += [try #require(bound)]
        _ = try await journal.append(drafts)

        var reopened = try journal.read { try RecordedState(journal: $0) }
        #expect(reopened.resumeFrom == ["Pod": "25"])
        #expect(reopened.observe("MODIFIED", pod("25", node: "node-1"), kind: .pod, at: t0) == nil, "already recorded")
        #expect(reopened.observe("MODIFIED", pod("26", node: "node-1", phase: "Running"), kind: .pod, at: t0)?.type == "StatusUpdated")
    }

    @Test func resourceVersionsCompareAsNumbers() {
        var state = RecordedState()
        _ = state.relist(.node, items: [], resourceVersion: "100", at: t0)
        _ = state.relist(.node, items: [], resourceVersion: "99", at: t0)
        #expect(state.resumeFrom["Node"] == "100", "an older list does not move the resume point back")
    }
}
