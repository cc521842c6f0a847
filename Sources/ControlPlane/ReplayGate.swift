import Journal

/// What stands between the components and the journal while a recording is re-run (`kj replay
/// verify`): the recording's inputs, appended where they were recorded, and a check of every other
/// append against what was recorded at that revision.
public protocol ReplayGate: Sendable {
    /// The recorded input at `revision` (a user's write, a fault, a control plane start), if the
    /// recording holds one there.
    func input(at revision: UInt64) -> EventDraft?
    /// Called before `draft` is appended at `revision`; throws to keep it out of the journal when it
    /// is not what the recording holds there.
    func check(_ draft: EventDraft, at revision: UInt64) throws(StatusError)
    /// Called after each append, with the event as stored.
    func appended(_ event: Event)
}
