import Foundation
import Journal
import Testing
import TestSupport

/// The journal against a plain in-memory model over thousands of random appends.
@Suite struct JournalModelTests {
    @Test(arguments: [1 as UInt64, 2, 3])
    func randomAppendsAgreeWithModel(seed: UInt64) async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        var rng = SeededGenerator(seed: seed)
        var model: [Event] = []
        let keys = (0..<40).map { ObjectKey(kind: ["Pod", "Node", "Service"][$0 % 3], namespace: $0 % 3 == 1 ? "" : "ns-\($0 % 4)", name: "o-\($0)") }
        var clock: Int64 = 1_700_000_000_000_000

        while model.count < 3_000 {
            let batch = (0..<Int.random(in: 1...25, using: &rng)).map { _ -> EventDraft in
                // Mostly forward, sometimes backwards (the journal must clamp), sometimes equal.
                clock += Int64.random(in: -2_000...50_000, using: &rng)
                let key = keys.randomElement(using: &rng)!
                return EventDraft(
                    time: Timestamp(microseconds: clock), type: ["Created", "Updated", "Deleted", "SchedulingDecided"].randomElement(using: &rng)!,
                    actor: Actor(kind: "user", name: "u\(Int.random(in: 0..<3, using: &rng))"),
                    object: ObjectRef(kind: key.kind, namespace: key.namespace, name: key.name, uid: "uid-\(Int.random(in: 0..<5, using: &rng))"),
                    cause: Bool.random(using: &rng) ? UInt64(model.count) : nil,
                    observed: Bool.random(using: &rng) ? UInt64.random(in: 0...UInt64(model.count), using: &rng) : nil,
                    trigger: Bool.random(using: &rng) ? 7 : nil,
                    request: Bool.random(using: &rng) ? "req-\(model.count)" : nil,
                    data: Array(#"{"n":\#(model.count),"s":"é\u00e9\\\""}"#.utf8))
            }
            let committed = try await journal.append(batch)
            #expect(committed.count == batch.count)
            for (draft, event) in zip(batch, committed) {
                var expected = draft
                expected.time = max(draft.time, model.last?.time ?? draft.time)
                #expect(event.revision == UInt64(model.count + 1))
                #expect(event.draft == expected)
                model.append(event)
            }
        }

        try journal.read { view throws in
            #expect(try view.head() == Head(revision: UInt64(model.count), hash: model.last!.hash, time: model.last!.time))
            for e in model { #expect(try view.event(at: e.revision) == e) }
            #expect(try view.event(at: 0) == nil)
            #expect(try view.event(at: UInt64(model.count + 1)) == nil)

            for _ in 0..<50 {
                let a = UInt64.random(in: 1...UInt64(model.count), using: &rng)
                let b = UInt64.random(in: a...UInt64(model.count + 5), using: &rng)
                let expected = model.filter { (a...b).contains($0.revision) }
                #expect(try view.events(in: a...b) == expected)
                #expect(try view.events(in: a...b, reverse: true) == expected.reversed())
                #expect(try view.events(in: a...b, reverse: true, limit: 3) == Array(expected.reversed().prefix(3)))
            }

            for key in keys {
                #expect(try view.history(of: key) == model.filter { $0.object.key == key }.map(\.revision))
            }
            #expect(try view.history(of: ObjectKey(kind: "Pod", namespace: "ns-0", name: "o")) == [])

            for _ in 0..<300 {
                let t = Timestamp(microseconds: Int64.random(in: (model.first!.time.microseconds - 10)...(model.last!.time.microseconds + 10), using: &rng))
                #expect(try view.revision(atOrBefore: t) == model.last { $0.time <= t }?.revision)
            }
            for e in model.prefix(200) {
                #expect(try view.revision(atOrBefore: e.time) == model.last { $0.time <= e.time }?.revision)
            }
        }
        #expect(try journal.verify().ok)
    }

    @Test func snapshotsAreFoundAtOrBefore() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        _ = try await journal.append((1...100).map { testDraft($0) })
        try await journal.putSnapshot([1, 2, 3], at: 10)
        try await journal.putSnapshot([4, 5], at: 50)
        try journal.read { view throws in
            #expect(try view.snapshot(atOrBefore: 9) == nil)
            #expect(try view.snapshot(atOrBefore: 10) == Snapshot(revision: 10, bytes: [1, 2, 3]))
            #expect(try view.snapshot(atOrBefore: 49) == Snapshot(revision: 10, bytes: [1, 2, 3]))
            #expect(try view.snapshot(atOrBefore: 50) == Snapshot(revision: 50, bytes: [4, 5]))
            #expect(try view.snapshot(atOrBefore: 1000) == Snapshot(revision: 50, bytes: [4, 5]))
        }
        await #expect(throws: JournalError.self) { try await journal.putSnapshot([9], at: 101) }
    }

    @Test func invalidDraftsAreRefusedAndAppendNothing() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        _ = try await journal.append([testDraft(1)])
        let before = try journal.head()
        var notJSON = testDraft(2); notJSON.data = Array("{\"a\":".utf8)
        var spaced = testDraft(3); spaced.data = Array(" {}".utf8)
        var noType = testDraft(4); noType.type = ""
        var nul = testDraft(5); nul.object.name = "a\u{0}b"
        var long = testDraft(6); long.object.name = String(repeating: "n", count: 600)
        var noActor = testDraft(7); noActor.actor.name = ""
        for bad in [notJSON, spaced, noType, nul, long, noActor] {
            // The valid first draft must not be appended either.
            let error = await #expect(throws: JournalError.self) { try await journal.append([testDraft(9), bad]) }
            #expect(error?.code == .invalidEvent)
        }
        #expect(try journal.head() == before)
    }

    @Test func closeAndReopenKeepsEverything() async throws {
        let dir = TemporaryDirectory()
        var journal = try Journal.open(at: dir.path)
        let written = try await journal.append((1...500).map { testDraft($0, name: "o-\($0 % 17)") })
        let head = try journal.head()
        journal.close()
        #expect(throws: JournalError.self) { try journal.head() }

        journal = try Journal.open(at: dir.path)
        defer { journal.close() }
        #expect(try journal.head() == head)
        #expect(try journal.read { try $0.events(in: 1...500) } == written)
        let more = try await journal.append([testDraft(501)])
        #expect(more[0].revision == 501)
        #expect(try journal.verify().ok)
    }

    @Test func aSecondHandleInOneProcessIsRefused() throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path)
        defer { journal.close() }
        let error = #expect(throws: JournalError.self) { try Journal.open(at: dir.path, options: .reader) }
        #expect(error?.code == .alreadyOpen)
    }

    @Test func syncAfterCloseIsRefusedNotAUseOfTheClosedEnvironment() throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        journal.close()
        let error = #expect(throws: JournalError.self) { try journal.sync() }
        #expect(error?.code == .closed)
    }

    @Test func readOnlyHandlesRefuseWrites() async throws {
        let dir = TemporaryDirectory()
        try Journal.open(at: dir.path).close()
        let reader = try Journal.open(at: dir.path, options: .reader)
        defer { reader.close() }
        let error = await #expect(throws: JournalError.self) { try await reader.append([testDraft(1)]) }
        #expect(error?.code == .readOnly)
    }
}
