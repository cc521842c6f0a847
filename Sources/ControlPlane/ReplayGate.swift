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

/// Where a re-run (`kj replay run`) gets the identities the recording gave: the n-th object the
/// re-run creates under a `generateName` gets the name the n-th such object got when recorded, and
/// the n-th object of a name gets its recorded uid. Two timelines of one incident then name the
/// same pods alike (and break the scheduler's ties alike), however many events each took.
public protocol RecordedIdentities: Sendable {
    /// The recorded name of the next object of `kind` created in `namespace` with `generateName`.
    func nextName(kind: String, namespace: String, generateName: String) -> String?
    /// The recorded uid of the next object created as `key`.
    func nextUID(for key: ObjectKey) -> String?
}
