import ClusterModel
import ControlPlane
import Foundation
import Journal
import NodeAgent
import Simulation

/// The outcome of `kj replay verify`: how many recorded events of each component the re-run
/// produced exactly, and each it did not.
public struct Verification: Sendable {
    /// Events of one component within the verified range.
    public struct Tally: Sendable, Equatable {
        public var decisions = 0
        public var writes = 0
        /// Recorded events the re-run did not produce (decisions and writes).
        public var disagreements = 0
        public var agreed: Int { decisions + writes - disagreements }
    }

    /// A recorded event the re-run did not produce.
    public struct Disagreement: Sendable {
        public var revision: UInt64
        public var component: String
        public var recorded: Event
        /// What the component wrote at that revision instead; nil when it wrote nothing.
        public var produced: EventDraft?
        /// The component's error, when its step failed instead.
        public var error: String?
    }

    public var range: ClosedRange<UInt64>
    /// By component name.
    public var components: [String: Tally] = [:]
    /// Recorded inputs (users' writes, faults, control plane starts) fed in as recorded.
    public var inputs = 0
    /// Control plane runs replayed (one per `ControlPlaneStarted`, or one for a simulation).
    public var runs = 0
    public var disagreements: [Disagreement] = []

    public var componentEvents: Int { components.values.reduce(0) { $0 + $1.decisions + $1.writes } }
    public var agreed: Bool { disagreements.isEmpty }
}

/// Re-runs every component event of a recording in lockstep with it (`kj replay verify`).
///
/// A fresh Store with the recording's seed is fed the recording's inputs at the revisions where
/// they were recorded. Each recorded component event is re-made by stepping the component that
/// wrote it: on the state at the decision's `observed` revision, at the recorded time, with the
/// run's recorded settings and scheduler profiles, and with the component's own state built only
/// from what it saw and did before — as in the recorded run, where a restart (`ControlPlaneStarted`)
/// starts new components that resume from the journal. Every event the component appends is checked
/// against the recording before it is stored. Where they differ, the disagreement is kept, the
/// recorded events of that step are taken as given, and the replay goes on.
public final class ReplayVerifier {
    let recording: Recording
    let gate: RecordingGate
    let store: Store
    private var driver: Driver?
    private var result: Verification

    /// Prepares a replay of `recording` up to `to` (its head if nil) into `scratch`, an empty
    /// journal; events before `from` are re-run but not counted.
    public init(recording: Journal, scratch: Journal, from: UInt64 = 1, to: UInt64? = nil) async throws {
        let rec = try Recording(journal: recording)
        let end = min(to ?? rec.head.revision, rec.head.revision)
        guard try scratch.head().revision == 0 else { throw ReplayError("the replay's journal at \(scratch.path) is not empty") }
        self.recording = rec
        gate = RecordingGate(recording: rec, end: end)
        let seed = try recording.read { try ClusterSeed.read(in: $0) }
        store = try await Store.open(journal: scratch, clock: RecordingClock(gate: gate),
                                     options: Store.Options(snapshotInterval: 0, seed: seed, synchronousAppends: true, replay: gate))
        result = Verification(range: max(1, from)...max(end, 1))
        let opened = try scratch.head().revision
        for e in try scratch.read({ try $0.events(in: 1...opened) }) where try rec.required(e.revision).draft != e.draft {
            throw ReplayError("the recording does not start as a cluster journal of this kj does (revision \(e.revision) differs)")
        }
        // The bootstrap events Store.open wrote are inputs too (counted when in the range).
        result.inputs = Int(opened) - Int(min(opened, result.range.lowerBound - 1))
        gate.resume(at: opened + 1)
    }

    /// Runs the replay to the end of the range.
    public func run() async throws -> Verification {
        let end = gate.end
        if try recording.event(at: store.signal.head + 1)?.type != ClusterEventType.controlPlaneStarted {
            try await startRun(nil)
        }
        var r = store.signal.head + 1
        while r <= end {
            let e = try recording.required(r)
            switch EventSource(e.actor) {
            case .input:
                gate.allowInputs(through: r)
                try await store.appendRecordedInputs()
                gate.allowInputs(through: .max)
                if r >= result.range.lowerBound { result.inputs += 1 }
                if e.type == ClusterEventType.controlPlaneStarted { try await startRun(e) }
            case .component(let name):
                try await replay(e, by: name)
            }
            r = store.signal.head + 1
        }
        return result
    }

    /// Starts the components of a run, as `kj serve` or `kj simulate` did, and lets them resume.
    private func startRun(_ started: Event?) async throws {
        let config = try recording.configuration(of: started)
        store.admit(with: config.admission)
        let kubelets = KubeletFleet(nodes: config.nodes, start: config.start)
        let gate = self.gate
        let driver = try Driver(store: store, components: Driver.standardComponents(seed: store.seed, kubelets: kubelets, settings: config.settings),
                                kubelets: kubelets, now: { gate.now })
        try await driver.prime(startingAt: config.start)
        self.driver = driver
        result.runs += 1
    }

    /// Steps the component that wrote `e` as it was stepped when `e` was recorded.
    private func replay(_ e: Event, by name: String) async throws {
        let before = store.signal.head
        guard let driver, let component = driver.components.first(where: { $0.name == name }) else {
            disagree(e, name, produced: nil, error: "no component \(name) runs in this replay")
            return try await give(from: e.revision)
        }
        if let observed = e.observed, observed < driver.cache.revision {
            disagree(e, name, produced: nil, error: "the decision read revision \(observed), older than the replay had already shown the components")
            return try await give(from: e.revision)
        }
        try driver.catchUp(through: e.observed)
        var stepError: (any Error)?
        do {
            _ = try await component.step(ComponentContext(store: store, now: e.time, cache: driver.cache))
        } catch {
            stepError = error
        }
        let divergence = gate.takeDivergence()
        let last = min(store.signal.head, (divergence?.revision ?? .max) - 1)
        if last > before { try count(before + 1...last) }
        if let divergence {
            disagree(try recording.required(divergence.revision), name, produced: divergence.produced, error: nil)
            try await give(from: divergence.revision)
        } else if store.signal.head == before {
            disagree(e, name, produced: nil, error: stepError.map { "\($0)" })
            try await give(from: e.revision)
        }
    }

    /// Counts re-made events, each for the component that wrote it.
    private func count(_ range: ClosedRange<UInt64>) throws {
        for r in range where r >= result.range.lowerBound {
            let e = try recording.required(r)
            guard case .component(let name) = EventSource(e.actor) else { continue }
            if e.isDecision { result.components[name, default: .init()].decisions += 1 } else { result.components[name, default: .init()].writes += 1 }
        }
    }

    private func disagree(_ recorded: Event, _ component: String, produced: EventDraft?, error: String?) {
        guard recorded.revision >= result.range.lowerBound else { return }
        result.disagreements.append(Verification.Disagreement(revision: recorded.revision, component: component, recorded: recorded, produced: produced, error: error))
        var tally = result.components[component, default: .init()]
        if recorded.isDecision { tally.decisions += 1 } else { tally.writes += 1 }
        tally.disagreements += 1
        result.components[component] = tally
    }

    /// Takes the recorded event at `revision` as given, with the rest of its step (the writes by the
    /// same actor that follow it up to its next decision), and counts those as disagreeing too.
    private func give(from revision: UInt64) async throws {
        let first = try recording.required(revision)
        var last = revision
        while let next = try recording.event(at: last + 1), last + 1 <= gate.end, next.actor == first.actor, !next.isDecision {
            last += 1
            if case .component(let name) = EventSource(next.actor) { disagree(next, name, produced: nil, error: "follows a disagreement") }
        }
        gate.give(through: last)
        try await store.appendRecordedInputs()
    }
}
