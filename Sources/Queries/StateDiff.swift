import ClusterModel
import ControlPlane
import Journal

/// What changed in the cluster between two revisions.
public struct StateDiff: Sendable, Equatable, Codable {
    public struct Change: Sendable, Equatable, Codable {
        /// `Kind/namespace/name`.
        public var object: String
        /// The revision of the object's version at `from` (nil: it did not exist) and at `to`.
        public var fromRevision: UInt64?
        public var toRevision: UInt64?
        /// Who wrote the version at `to` (or removed the object).
        public var lastActor: String?
        public var changes: [FieldChange]
    }

    public var from: UInt64
    public var to: UInt64
    public var added: [Change]
    public var removed: [Change]
    public var modified: [Change]

    /// Compares the states at `from` and `to`, optionally only objects of one kind and/or namespace.
    public static func between(_ from: UInt64, _ to: UInt64, kind: ResourceKind? = nil, namespace: String? = nil, in view: JournalView) throws -> StateDiff {
        let a = try Projection.state(in: view, at: from), b = try Projection.state(in: view, at: to)
        func selected(_ s: ClusterState) -> [ObjectKey: StoredObject] {
            var out: [ObjectKey: StoredObject] = [:]
            for kind in kind.map({ [$0] }) ?? ResourceKind.allCases {
                for o in s.list(kind) where namespace == nil || o.key.namespace == namespace { out[o.key] = o }
            }
            return out
        }
        let before = selected(a), after = selected(b)
        var diff = StateDiff(from: from, to: to, added: [], removed: [], modified: [])
        for key in Set(before.keys).union(after.keys).sorted() {
            let old = before[key], new = after[key]
            switch (old, new) {
            case (nil, let n?):
                diff.added.append(Change(object: key.description, fromRevision: nil, toRevision: n.revision,
                                         lastActor: try view.event(at: n.revision)?.actor.description, changes: []))
            case (let o?, nil):
                let removal = try view.history(of: key).first { $0 > from && $0 <= to && $0 > o.revision }
                diff.removed.append(Change(object: key.description, fromRevision: o.revision, toRevision: nil,
                                           lastActor: try removal.flatMap { try view.event(at: $0) }.map { $0.actor.description }, changes: []))
            case (let o?, let n?) where o.revision != n.revision:
                let changes = o.uid == n.uid
                    ? FieldDiff.changes(from: try o.json(in: view), to: try n.json(in: view))
                    : [FieldChange(path: "metadata.uid", old: o.uid, new: n.uid)]
                diff.modified.append(Change(object: key.description, fromRevision: o.revision, toRevision: n.revision,
                                            lastActor: try view.event(at: n.revision)?.actor.description, changes: changes))
            default: break
            }
        }
        return diff
    }
}
