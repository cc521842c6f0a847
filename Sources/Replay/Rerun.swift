import ClusterModel
import ControlPlane
import Foundation
import Journal
import NodeAgent
import Scheduler
import Simulation
import Synchronization

/// What a re-run changes about the recording (`kj replay run`'s what-if options).
public struct WhatIf: Sendable {
    /// The scheduler's profiles in every run (`--scheduler-config`).
    public var schedulerProfiles: [SchedulerProfile]?
    /// Nodes every run has besides the recorded ones (`--add-node`).
    public var addedNodes: [SimulatedNode] = []
    /// Nodes no run has (`--remove-node`).
    public var removedNodes: Set<String> = []
    /// Capacities that replace recorded ones, by node (`--node NAME,cpu=…`).
    public var resized: [String: [String: Quantity]] = [:]
    /// Recorded inputs left out, by revision (`--drop`).
    public var dropped: Set<UInt64> = []

    public init() {}

    /// Whether the re-run changes nothing: then it must write the recording again.
    public var isEmpty: Bool {
        schedulerProfiles == nil && addedNodes.isEmpty && removedNodes.isEmpty && resized.isEmpty && dropped.isEmpty
    }

    /// A run's configuration with the changes applied.
    func applied(to config: RunConfiguration) -> RunConfiguration {
        var c = config
        if let schedulerProfiles { c.settings.schedulerProfiles = schedulerProfiles }
        c.nodes = c.nodes.filter { !removedNodes.contains($0.name) }.map { node in
            var n = node
            for (resource, quantity) in resized[n.name] ?? [:] { n.capacity[resource] = quantity }
            return n
        }
        for added in addedNodes where !c.nodes.contains(where: { $0.name == added.name }) {
            var n = added
            n.index = (c.nodes.map(\.index).max() ?? 0) + 1
            c.nodes.append(n)
        }
        return c
    }
}

/// An input of the recording the re-run could not apply (its object is not there in the new timeline).
public struct SkippedInput: Sendable, Codable, Equatable {
    public var revision: UInt64
    public var input: String
    public var reason: String
}

/// Re-runs a recording from its inputs (`kj replay run`): the users' writes, faults, node changes
/// and control plane starts are fed, at their recorded times, into a fresh control plane in
/// virtual time, which writes a new journal. The components decide everything again; with no
/// what-if change, a recording made by `kj simulate` is written again byte for byte.
public final class Rerun {
    let recording: Recording
    let whatIf: WhatIf
    let output: Journal
    let clock: ManualClock
    let store: Store
    /// The last recorded revision re-run.
    let end: UInt64
    private var driver: Driver?
    public private(set) var skipped: [SkippedInput] = []

    /// Prepares a re-run of `recording` (up to `to`, its head if nil) into `output`, an empty
    /// journal. `from`: the recorded events up to that revision are copied as they are and the
    /// components start on the state there, as after a control plane restart.
    public init(recording journal: Journal, output: Journal, whatIf: WhatIf = WhatIf(), from: UInt64? = nil, to: UInt64? = nil) async throws {
        recording = try Recording(journal: journal)
        end = min(to ?? recording.head.revision, recording.head.revision)
        guard try output.head().revision == 0 else { throw ReplayError("the re-run's journal at \(output.path) is not empty") }
        self.output = output
        self.whatIf = whatIf
        try Self.check(whatIf, against: recording, end: end)
        let first = try recording.required(1)
        let seed = try journal.read { try ClusterSeed.read(in: $0) }
        if let from {
            guard from >= 3, from <= end else { throw ReplayError("--from \(from) is outside the recording (revisions 3–\(end))") }
            // The recorded history up to `from`, as it is (a reader of the new journal sees the same past).
            var r: UInt64 = 1
            while r <= from {
                let batch = try journal.read { try $0.events(in: r...min(from, r + 4095)) }
                _ = try output.appendSynchronously(batch.map(\.draft))
                r += UInt64(batch.count)
            }
        }
        clock = ManualClock(first.time)
        let identities = try RecordedNames(recording, (from ?? 3) + 1...max(end, (from ?? 3) + 1))
        store = try await Store.open(journal: output, clock: clock, options: Store.Options(seed: seed, synchronousAppends: true, identities: identities))
    }

    /// Refuses what-if changes that name what the recording does not have: a dropped revision that
    /// is not one of its inputs, a node it never had.
    static func check(_ whatIf: WhatIf, against recording: Recording, end: UInt64) throws {
        for r in whatIf.dropped.sorted() {
            guard r <= end, let e = try recording.event(at: r) else { throw ReplayError("--drop \(r): the recording ends at revision \(end)") }
            guard EventSource(e.actor) == .input, r > 3 else {
                throw ReplayError("--drop \(r): revision \(r) is \(e.type) by \(e.actor), not an input (a user's write, a fault or a restart); kj events --journal … lists the inputs by actor")
            }
        }
        let known = try recording.journal.read { try $0.objectKeys(kind: Node.kind, namespace: "").map(\.name) }
        for name in whatIf.removedNodes.union(whatIf.resized.keys).sorted() where !known.contains(name) {
            throw ReplayError("no node \(name) in the recording (its nodes: \(known.joined(separator: ", ")))")
        }
        for added in whatIf.addedNodes where known.contains(added.name) {
            throw ReplayError("--add-node \(added.name): the recording already has a node \(added.name); --node \(added.name),cpu=… resizes it")
        }
    }

    /// Runs the re-run to the recording's end time and returns what it wrote.
    public func run() async throws -> UInt64 {
        let start = store.signal.head
        let recordedEnd = try recording.required(end).time
        if start > recording.bootstrapped {
            // From a recorded point: the components of the run in progress there, resuming from it.
            clock.set(try recording.required(start).time)
            try await startRun(try runStart(before: start))
        } else if try recording.event(at: recording.bootstrapped + 1)?.type != ClusterEventType.controlPlaneStarted {
            try await startRun(nil)
        }
        var r = start + 1
        while r <= end {
            let e = try recording.required(r)
            defer { r += 1 }
            guard EventSource(e.actor) == .input, !whatIf.dropped.contains(r) else { continue }
            let previous = try recording.required(r - 1)
            // Components whose work falls due before the input do it first; at the input's own
            // instant they go first only where the recording shows them acting there before it.
            try await advance(to: e.time, including: EventSource(previous.actor) != .input && previous.time == e.time)
            if e.time > clock.now() { clock.set(e.time) }
            try await apply(e)
        }
        try await advance(to: recordedEnd, including: true)
        if recordedEnd > clock.now() { clock.set(recordedEnd) }
        await store.flushSnapshots()
        return store.signal.head
    }

    /// Lets the components work at every due time before `time` (and at `time` itself if
    /// `including`), settling at each; at the instant the clock already shows, they work first
    /// only if it is before `time` or `including`.
    private func advance(to time: Timestamp, including: Bool) async throws {
        guard let driver else { return }
        while true {
            if clock.now() < time || including { try await driver.settle() }
            guard let wake = driver.nextWakeup(), wake > clock.now(), wake < time || (including && wake == time) else { return }
            clock.set(wake)
        }
    }

    /// The `ControlPlaneStarted` of the run in progress at `revision`, nil for a simulation's.
    private func runStart(before revision: UInt64) throws -> Event? {
        try recording.journal.read { view in
            for r in try view.history(of: ObjectKey(kind: "Cluster", name: "cluster")).reversed() where r <= revision {
                if let e = try view.event(at: r), e.type == ClusterEventType.controlPlaneStarted { return e }
            }
            return nil
        }
    }

    /// Starts a run's components with the recorded configuration and the what-if changes.
    private func startRun(_ started: Event?) async throws {
        let config = whatIf.applied(to: try recording.configuration(of: started))
        store.admit(with: config.admission)
        let kubelets = KubeletFleet(nodes: config.nodes, start: clock.now())
        let clock = self.clock
        let driver = try Driver(store: store, components: Driver.standardComponents(seed: store.seed, kubelets: kubelets, settings: config.settings),
                                kubelets: kubelets, now: { clock.now() })
        try await driver.prime(startingAt: clock.now())
        self.driver = driver
    }

    /// Feeds one recorded input in: a user's write as the same request again, anything else (a
    /// fault, a control plane start) as the same event at this point of the new timeline.
    private func apply(_ e: Event) async throws {
        guard let type = WriteType(rawValue: e.type), let kind = ResourceKind(rawValue: e.object.kind) else {
            var draft = e.draft
            draft.time = clock.now()
            if draft.observed != nil { draft.observed = driver?.cache.revision ?? store.signal.head }
            if let f = Fault(e), case .removeNode(let node) = f, whatIf.removedNodes.contains(node) { return }
            _ = try await store.record(draft)
            if e.type == ClusterEventType.controlPlaneStarted { try await startRun(e) }
            return
        }
        let origin = Store.Origin(e.actor, request: e.request, cause: nil, replaysRecordedFields: true)
        let key = e.object
        do {
            switch type {
            case .created, .updated, .statusUpdated:
                var object = try kind.decode(try JSONValue.parse(e.data), strict: false)
                object.metadata.resourceVersion = nil
                switch type {
                case .created: _ = try await store.create(object, by: origin)
                case .updated: _ = try await store.update(object, by: origin)
                default: _ = try await store.updateStatus(object, by: origin)
                }
            case .bound:
                let pod = try kind.decode(try JSONValue.parse(e.data), strict: false) as? Pod
                _ = try await store.bind(namespace: key.namespace, pod: key.name, to: pod?.spec.nodeName ?? "", by: origin)
            case .deletionStarted, .deleted:
                let object = try kind.decode(try JSONValue.parse(e.data), strict: false)
                let grace = object.metadata.deletionGracePeriodSeconds ?? (type == .deleted && kind == .pod ? 0 : nil)
                _ = try await store.delete(kind, namespace: key.namespace.isEmpty ? nil : key.namespace, name: key.name, gracePeriodSeconds: grace, by: origin)
            }
        } catch let error as StatusError {
            skipped.append(SkippedInput(revision: e.revision, input: "\(e.type) \(e.object) by \(e.actor)", reason: error.message))
        }
    }
}

/// The names and uids a recording gave the objects created after a revision, handed out in the
/// order they were given (`RecordedIdentities`).
final class RecordedNames: RecordedIdentities {
    private struct Queues {
        var names: [String: ArraySlice<String>] = [:]
        var uids: [ObjectKey: ArraySlice<String>] = [:]
    }

    private let queues: Mutex<Queues>

    /// Reads every `Created` event of `recording` in `range`.
    init(_ recording: Recording, _ range: ClosedRange<UInt64>) throws {
        var q = Queues()
        var names: [String: [String]] = [:], uids: [ObjectKey: [String]] = [:]
        try recording.journal.read { view in
            try view.forEachHeader(in: range) { h in
                guard h.type == WriteType.created.rawValue else { return true }
                uids[h.object.key, default: []].append(h.object.uid)
                if let prefix = JSONFields.string(at: ["metadata", "generateName"], in: h.data) {
                    names[Self.key(h.object.kind, h.object.namespace, prefix), default: []].append(h.object.name)
                }
                return true
            }
        }
        q.names = names.mapValues { $0[...] }
        q.uids = uids.mapValues { $0[...] }
        queues = Mutex(q)
    }

    static func key(_ kind: String, _ namespace: String, _ prefix: String) -> String { "\(kind)\u{0}\(namespace)\u{0}\(prefix)" }

    func nextName(kind: String, namespace: String, generateName: String) -> String? {
        queues.withLock { $0.names[Self.key(kind, namespace, generateName)]?.popFirst() }
    }

    func nextUID(for key: ObjectKey) -> String? {
        queues.withLock { $0.uids[key]?.popFirst() }
    }
}
