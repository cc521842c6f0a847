import ControlPlane
import Journal
import Synchronization

/// The `ReplayGate` of a lockstep replay: the Store appends the recording's inputs where they were
/// recorded (and any recorded event the replay is told to take as given), checks every other
/// append against the event recorded at that revision, and reads the time of the event it is
/// about to append from the recording.
final class RecordingGate: ReplayGate {
    /// A component's event that is not what the recording holds at its revision.
    struct Divergence: Sendable {
        var revision: UInt64
        var produced: EventDraft
    }

    private struct State {
        /// The revision the Store appends next.
        var next: UInt64 = 1
        /// Inputs are appended only up to here (the replay's main loop takes them one at a time).
        var inputsThrough: UInt64 = .max
        /// Recorded events up to here are appended as given, whoever wrote them.
        var givenThrough: UInt64 = 0
        var divergence: Divergence?
    }

    let recording: Recording
    /// The last revision replayed.
    let end: UInt64
    private let state = Mutex(State())

    init(recording: Recording, end: UInt64) {
        self.recording = recording
        self.end = end
    }

    func input(at revision: UInt64) -> EventDraft? {
        let (inputs, given) = state.withLock { ($0.inputsThrough, $0.givenThrough) }
        guard revision <= end, let e = try? recording.event(at: revision) else { return nil }
        if revision <= given { return e.draft }
        return revision <= inputs && EventSource(e.actor) == .input ? e.draft : nil
    }

    func check(_ draft: EventDraft, at revision: UInt64) throws(StatusError) {
        guard revision <= end, let recorded = try? recording.event(at: revision) else {
            throw StatusError(.serviceUnavailable, "the recording ends at revision \(end)")
        }
        // The journal raises a time earlier than its head's to the head's; so does the check.
        var produced = draft
        if let previous = try? recording.event(at: revision - 1), produced.time < previous.time { produced.time = previous.time }
        guard produced != recorded.draft else { return }
        state.withLock { $0.divergence = Divergence(revision: revision, produced: produced) }
        throw StatusError(.internalError, "the replay diverged from the recording at revision \(revision)")
    }

    func appended(_ event: Event) {
        state.withLock { $0.next = event.revision + 1 }
    }

    /// The time of the event the Store appends next.
    var now: Timestamp {
        let next = state.withLock { $0.next }
        return (try? recording.event(at: min(next, recording.head.revision)))?.time ?? recording.head.time
    }

    /// Tells the gate the Store's next revision (after events appended around it, at opening).
    func resume(at next: UInt64) { state.withLock { $0.next = next } }
    func allowInputs(through revision: UInt64) { state.withLock { $0.inputsThrough = revision } }
    func give(through revision: UInt64) { state.withLock { $0.givenThrough = max($0.givenThrough, revision) } }

    /// The divergence found since the last call, if any.
    func takeDivergence() -> Divergence? {
        state.withLock { s in
            defer { s.divergence = nil }
            return s.divergence
        }
    }
}

/// The clock of a lockstep replay: the recorded time of the event about to be appended.
struct RecordingClock: ClusterClock {
    let gate: RecordingGate
    func now() -> Timestamp { gate.now }
}
