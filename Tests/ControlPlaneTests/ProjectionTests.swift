import ClusterModel
@testable import ControlPlane
import Foundation
import Journal
import Synchronization
import Testing
import TestSupport

/// Random sequences of writes (with conflicts and failures): after each, the live state is the fold
/// of the journal, and `state(at: k)` rebuilds exactly what the live state was after write k.
@Suite struct ProjectionPropertyTests {
    @Test(arguments: [(UInt64(1), UInt64(0)), (2, 7), (3, 50)])
    func liveStateIsTheFoldAndEveryPastStateRebuilds(seed: UInt64, snapshotInterval: UInt64) async throws {
        let f = try await Fixture(seed: seed, snapshotInterval: snapshotInterval)
        var rng = SeededGenerator(seed: seed)
        var recorded: [UInt64: ClusterState] = [await f.store.state.revision: await f.store.state]
        let names = (0..<12).map { "p\($0)" }
        var failures = 0
        for step in 0..<300 {
            f.clock.advance(seconds: Double.random(in: 0...3, using: &rng))
            let name = names.randomElement(using: &rng)!
            do {
                switch Int.random(in: 0..<7, using: &rng) {
                case 0, 1:
                    var p = pod(name, labels: ["step": "\(step)"])
                    if Bool.random(using: &rng) { p.spec.nodeName = "node-\(step % 3)" }
                    _ = try await f.store.create(p, by: alice)
                case 2:
                    var p = try await f.store.get(Pod.self, name: name)
                    if Bool.random(using: &rng) { p.metadata.resourceVersion = "1" }  // stale: Conflict
                    p.metadata.labels?["touched"] = "\(step)"
                    _ = try await f.store.update(p, by: alice)
                case 3:
                    _ = try await f.store.patch(.pod, namespace: "default", name: name, type: .merge,
                                                body: .object(["metadata": .object(["annotations": .object(["n": .string("\(step)")])])]), by: alice)
                case 4:
                    _ = try await f.store.bind(namespace: "default", pod: name, to: "node-\(step % 4)", by: alice)
                case 5:
                    var p = try await f.store.get(Pod.self, name: name)
                    p.status = PodStatus(phase: ["Running", "Succeeded", "Failed"].randomElement(using: &rng)!)
                    _ = try await f.store.updateStatus(p, by: alice)
                default:
                    _ = try await f.store.delete(.pod, namespace: "default", name: name,
                                                 gracePeriodSeconds: Bool.random(using: &rng) ? 0 : nil, by: alice)
                }
            } catch {
                failures += 1
            }
            let live = await f.store.state
            recorded[live.revision] = live
            #expect(live == (try Projection.state(of: f.journal, useSnapshots: false)), "step \(step)")
        }
        #expect(failures > 20 && failures < 250)  // conflicts and not-founds happened, and most writes landed
        await f.store.flushSnapshots()
        let head = try f.head()
        #expect(recorded.count > 100)
        for (rev, expected) in recorded {
            #expect(try Projection.state(of: f.journal, at: rev) == expected, "at \(rev)")
            #expect(try Projection.state(of: f.journal, at: rev, useSnapshots: false) == expected, "at \(rev) without snapshots")
            // One kind only (kj get), and one object from its own events (kj diff): the same objects.
            try f.journal.read { view in
                let pods = try Projection.state(in: view, at: rev, only: [.pod])
                #expect(pods.list(.pod) == expected.list(.pod) && pods.count == expected.list(.pod).count, "pods at \(rev)")
                #expect(pods.revision == expected.revision && pods.time == expected.time)
                #expect(try Projection.state(in: view, at: rev, only: [.namespace]).list(.pod).isEmpty)
                for name in names {
                    let key = ObjectKey(kind: Pod.kind, namespace: "default", name: name)
                    #expect(try Projection.object(key, at: rev, in: view) == expected.object(key), "\(name) at \(rev)")
                }
            }
        }
        if snapshotInterval > 0 {
            let snapshots = try f.journal.stat().snapshots
            #expect(snapshots == Int(head / snapshotInterval))
        }
        // A reopened store folds the same state (from its snapshots).
        let reopened = try await Store.open(journal: f.journal, clock: f.clock)
        #expect(await reopened.state == (await f.store.state))
    }

    @Test func stateAtTimeUsesTheTimeIndex() async throws {
        let f = try await Fixture()
        _ = try await f.store.create(pod("early"), by: alice)
        let between = f.clock.now().adding(microseconds: 30_000_000)
        f.clock.advance(seconds: 60)
        _ = try await f.store.create(pod("late"), by: alice)
        let then = try Projection.state(of: f.journal, atTime: between)
        #expect(then.list(.pod).map(\.key.name) == ["early"])
        let now = try Projection.state(of: f.journal, atTime: f.clock.now())
        #expect(now.list(.pod).map(\.key.name) == ["early", "late"])
    }

    @Test func theSameWritesWithTheSameSeedWriteTheSameJournal() async throws {
        var exports: [String] = []
        for _ in 0..<2 {
            let f = try await Fixture(seed: 2026)
            _ = try await f.store.create(pod("a", labels: ["x": "1"]), by: alice)
            f.clock.advance(seconds: 1.5)
            _ = try await f.store.bind(namespace: "default", pod: "a", to: "node-1", by: alice)
            _ = try await f.store.delete(.pod, namespace: "default", name: "a", by: alice)
            exports.append(try f.journal.read { view in try view.events(in: 1...1000).map(NDJSON.line).joined(separator: "\n") })
        }
        #expect(exports[0] == exports[1])
        #expect(exports[0].contains("\"type\":\"DeletionStarted\""))
    }

    @Test func indexesFollowNodesAndOwners() async throws {
        let f = try await Fixture()
        var owned = pod("child")
        owned.metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "owner-uid", controller: true)]
        _ = try await f.store.create(owned, by: alice)
        _ = try await f.store.create(pod("other"), by: alice)
        _ = try await f.store.bind(namespace: "default", pod: "child", to: "node-1", by: alice)
        let state = await f.store.state
        #expect(state.pods(on: "node-1").map(\.key.name) == ["child"])
        #expect(state.dependents(of: "owner-uid").map(\.key.name) == ["child"])
        _ = try await f.store.delete(.pod, namespace: "default", name: "child", gracePeriodSeconds: 0, by: alice)
        let after = await f.store.state
        #expect(after.pods(on: "node-1").isEmpty)
        #expect(after.dependents(of: "owner-uid").isEmpty)
    }
}

@Suite struct WatchTests {
    /// Collects watch events until `count` arrive.
    func collect(_ stream: WatchStream, _ count: Int) async throws -> [WatchEvent] {
        var out: [WatchEvent] = []
        for try await e in stream {
            out.append(e)
            if out.count == count { break }
        }
        return out
    }

    @Test func watchersFromTheStartTheMiddleAndTheHeadSeeEveryChangeOnceInOrder() async throws {
        let f = try await Fixture()
        for i in 0..<20 { _ = try await f.store.create(pod("early-\(i)"), by: alice) }
        let middle = try f.head() - 10
        let head = try f.head()
        let filter = WatchFilter(kind: .pod, namespace: "default")
        let writes = 120
        async let fromZero = collect(f.store.watch(filter, from: 0), 20 + writes)
        async let fromMiddle = collect(f.store.watch(filter, from: middle), 10 + writes)
        async let fromHead = collect(f.store.watch(filter, from: head), writes)
        for i in 0..<writes {
            if i % 3 == 2 {
                _ = try await f.store.delete(.pod, namespace: "default", name: "late-\(i - 1)", by: alice)
            } else {
                _ = try await f.store.create(pod("late-\(i)"), by: alice)
            }
        }
        let (a, b, c) = try await (fromZero, fromMiddle, fromHead)
        for (events, start) in [(a, UInt64(0)), (b, middle), (c, head)] {
            let revisions = events.map(\.revision)
            #expect(revisions == revisions.sorted() && Set(revisions).count == revisions.count)
            #expect(revisions.first! > start)
            #expect(revisions.last == (try f.head()))
        }
        #expect(c.filter { $0.type == .added }.count == 80)
        #expect(c.filter { $0.type == .deleted }.count == 40)
        #expect(try c.first?.object()["metadata"]?["resourceVersion"]?.stringValue == String(head + 1))
        #expect(Array(a.suffix(writes)) == c)
    }

    @Test func anObjectLeavingTheSelectorIsDeletedForTheWatcher() async throws {
        let f = try await Fixture()
        var p = try await f.store.create(pod("p", labels: ["tier": "web"]), by: alice)
        let start = try f.head()
        let selector = try LabelSelectorExpression(parsing: "tier=web")
        async let seen = collect(f.store.watch(WatchFilter(kind: .pod, labels: selector), from: start), 3)
        p.metadata.labels = ["tier": "db"]
        p = try await f.store.update(p, by: alice)  // leaves the selector: DELETED
        p.metadata.labels = ["tier": "web"]
        p = try await f.store.update(p, by: alice)  // back in: ADDED
        p.metadata.annotations = ["a": "b"]
        _ = try await f.store.update(p, by: alice)  // still in: MODIFIED
        #expect(try await seen.map(\.type) == [.deleted, .added, .modified])
    }

    @Test func aSlowWatcherDoesNotHoldWritersBack() async throws {
        let f = try await Fixture()
        let stream = f.store.watch(WatchFilter(kind: .pod), from: try f.head())
        var iterator = stream.makeAsyncIterator()
        let first = try await f.store.create(pod("first"), by: alice)
        // Nobody reads for a thousand writes; they all complete.
        for i in 0..<1000 { _ = try await f.store.create(pod("w\(i)"), by: alice) }
        let e = try await iterator.next()
        #expect(e?.revision == UInt64(first.metadata.resourceVersion!))
        var count = 1
        while count < 1001, try await iterator.next() != nil { count += 1 }
        #expect(count == 1001)
    }
}

/// A snapshot is read in place; damaged lengths (any 64 bits) are refused, never followed.
@Suite struct DamagedSnapshotTests {
    @Test func everyTruncationAndHugeLengthIsRefused() async throws {
        let f = try await Fixture()
        for i in 0..<5 { _ = try await f.store.create(pod("p\(i)"), by: alice) }
        let good = SnapshotCodec.encode(await f.store.state)
        #expect(try good.withUnsafeBytes { try SnapshotCodec.decode($0) } == (await f.store.state))
        for cut in stride(from: 0, to: good.count, by: 3) {
            let damaged = Array(good.prefix(cut))
            #expect(throws: (any Error).self) { try damaged.withUnsafeBytes { try SnapshotCodec.decode($0) } }
        }
        // Every 8-byte field overwritten with enormous values.
        for at in stride(from: 4, to: good.count - 8, by: 1) {
            for value in [UInt64.max, UInt64(1) << 63, UInt64(Int64.max)] {
                var damaged = good
                withUnsafeBytes(of: value.bigEndian) { damaged.replaceSubrange(at..<at + 8, with: $0) }
                _ = try? damaged.withUnsafeBytes { try SnapshotCodec.decode($0) }
            }
        }
    }
}

/// The watch cache: lines made once from the stored bytes, a ring that drops the oldest writes,
/// and watchers that fall off it reading the journal instead, losing nothing.
@Suite struct WatchCacheTests {
    @Test(arguments: [
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"}},"spec":{}}"#,
        #"{"kind":"ConfigMap","metadata":{},"data":{"k":"v"}}"#,
        #"{ "kind" : "ConfigMap", "metadata" : { } , "data" : { "metadata": {"x": 1} } }"#,
        #"{"kind":"Pod","spec":{"metadata":{"name":"not this one"}}}"#,
    ])
    func aLineIsTheStoredObjectWithItsResourceVersion(stored: String) throws {
        let entry = WatchEntry(revision: 42, type: .created, object: ObjectRef(kind: "Pod", namespace: "default", name: "p", uid: "u"), data: Array(stored.utf8))
        let line = entry.line(.added)
        #expect(line.last == UInt8(ascii: "\n") && line.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") })
        let parsed = try JSONValue.parse(Array(line.dropLast()))
        var expected = try JSONValue.parse(stored)
        var meta = expected["metadata"] ?? .object([:])
        meta["resourceVersion"] = "42"
        expected["metadata"] = meta
        #expect(parsed == ["type": "ADDED", "object": expected])
        #expect(try entry.json() == expected)
        #expect(entry.line(.deleted).starts(with: Array(#"{"type":"DELETED","object":"#.utf8)))
    }

    @Test func aWatcherBehindTheRingReadsTheJournalAndGetsEveryWrite() async throws {
        let f = try await Fixture(watchCacheSize: 8)
        let start = try f.head()
        let stream = f.store.watch(WatchFilter(kind: .pod, namespace: "default"), from: start)
        for i in 0..<100 { _ = try await f.store.create(pod("p\(i)"), by: alice) }
        let head = try f.head()
        let cache = f.store.watchCache
        #expect(cache.writes(after: start, limit: 1000) == nil, "the first writes have left the ring")
        let recent = try #require(cache.writes(after: head - 5, limit: 1000))
        #expect(recent.entries.map(\.revision) == Array(head - 4...head) && recent.through == head)
        #expect(cache.writes(after: head - 5, limit: 2)?.through == head - 3)
        var names: [String] = []
        for try await e in stream {
            names.append(try e.object()["metadata"]?["name"]?.stringValue ?? "")
            if names.count == 100 { break }
        }
        #expect(names == (0..<100).map { "p\($0)" })
    }
}
