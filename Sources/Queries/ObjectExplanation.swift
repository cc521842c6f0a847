import ClusterModel
import ControlPlane
import Journal

/// `kj why KIND/NAME` for any kind but pods (which have `PodExplanation`): whether the object
/// exists, who made it and why — the chain of causes behind its creation — and, if its desired
/// state changed since, the chain behind its latest change with the fields that change set (for an
/// object that is gone, the chain behind its removal); and who last wrote its status.
public struct ObjectExplanation: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable { case exists, gone }

    public var kind: String
    /// `NAMESPACE/NAME`, or `NAME` for a cluster-scoped kind.
    public var object: String
    public var uid: String
    public var status: Status
    /// The point explained (the head, or `--at`).
    public var at: PodExplanation.Point
    public var created: PodExplanation.Point
    public var createdBy: String
    /// The chain of causes behind the creation, oldest first.
    public var creation: [HistoryEntry]
    /// The latest write after the creation (the removal, for an object that is gone), if any.
    public var latest: PodExplanation.Point?
    public var latestBy: String?
    public var latestType: String?
    /// The chain of causes behind that write, oldest first; the write itself carries its field changes.
    public var latestCauses: [HistoryEntry]?
    /// The latest status write, if any.
    public var statusWritten: PodExplanation.Point?
    public var statusWrittenBy: String?

    /// The explanation of `key` as of `at` (default: the head).
    public static func explain(_ key: ObjectKey, at: UInt64? = nil, in view: JournalView) throws -> ObjectExplanation {
        let head = try at ?? view.head().revision
        let history = try ObjectHistory.load(key, until: head, in: view)
        let writes = try history.entries.filter { $0.role == .object && WriteType(rawValue: $0.type) != nil }
            .compactMap { try view.event(at: $0.revision) }
        guard let created = writes.first(where: { $0.type == WriteType.created.rawValue }), let last = writes.last else {
            throw QueryError.notFound(key, suggestions: [])
        }
        let headTime = try view.event(at: head)?.time ?? last.time
        var result = ObjectExplanation(
            kind: key.kind, object: key.namespace.isEmpty ? key.name : "\(key.namespace)/\(key.name)", uid: history.uid, status: last.type == WriteType.deleted.rawValue ? .gone : .exists,
            at: .init(revision: head, time: headTime.rfc3339), created: .init(revision: created.revision, time: created.time.rfc3339),
            createdBy: created.actor.description, creation: try PodExplanation.causes(of: [created], binding: nil, decision: nil, in: view).0)
        if let status = writes.last(where: { $0.type == WriteType.statusUpdated.rawValue }) {
            result.statusWritten = .init(revision: status.revision, time: status.time.rfc3339)
            result.statusWrittenBy = status.actor.description
        }
        if let last = writes.last(where: { $0.type != WriteType.statusUpdated.rawValue }), last.revision != created.revision {
            result.latest = .init(revision: last.revision, time: last.time.rfc3339)
            result.latestBy = last.actor.description
            result.latestType = last.type
            var chain = try PodExplanation.causes(of: [last], binding: nil, decision: nil, in: view, from: last).0
            // The write itself shows what it changed.
            if let i = chain.lastIndex(where: { $0.revision == last.revision }),
               let own = history.entries.first(where: { $0.revision == last.revision }) {
                chain[i].changes = own.changes
            }
            result.latestCauses = chain
        }
        return result
    }
}
