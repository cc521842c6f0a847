import ClusterModel
import ControlPlane
import Journal

extension Event {
    /// The event's data as the queries show it: parsed, with secret values replaced by their sizes
    /// (see `Redaction`).
    public func shownData() throws -> JSONValue {
        Redaction.redact(try JSONValue.parse(draft.data), kind: draft.object.kind)
    }
}

extension StoredObject {
    /// The object as the queries show it (see `Event.shownData()`).
    public func shownJSON(in view: JournalView) throws -> JSONValue {
        Redaction.redact(try json(in: view), kind: kind.rawValue)
    }
}
