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
    /// Only objects written between the two revisions can differ: each of those is looked up at both
    /// ends from its own events, instead of rebuilding and comparing two whole states (a cluster that
    /// keeps every core Event has hundreds of thousands of objects, and a diff of a minute touches a few hundred).
    public static func between(_ from: UInt64, _ to: UInt64, kind: ResourceKind? = nil, namespace: String? = nil, in view: JournalView) throws -> StateDiff {
        var written = Set<ObjectKey>()
        if from != to {
            try view.forEachHeader(in: (min(from, to) + 1)...max(from, to)) { h in
                if WriteType(rawValue: h.type) != nil, let k = ResourceKind(rawValue: h.object.kind), kind == nil || k == kind,
                   namespace == nil || h.object.namespace == namespace {
                    written.insert(h.object.key)
                }
                return true
            }
        }
        var diff = StateDiff(from: from, to: to, added: [], removed: [], modified: [])
        for key in written.sorted() {
            let old = try Projection.object(key, at: from, in: view), new = try Projection.object(key, at: to, in: view)
            switch (old, new) {
            case (nil, let n?):
                diff.added.append(Change(object: key.description, fromRevision: nil, toRevision: n.revision,
                                         lastActor: try view.event(at: n.revision)?.actor.description, changes: []))
            case (let o?, nil):
                diff.removed.append(Change(object: key.description, fromRevision: o.revision, toRevision: nil,
                                           lastActor: try remover(of: key, after: o.revision, upTo: to, in: view), changes: []))
            case (let o?, let n?) where o.uid != n.uid:
                // Deleted and created again under the same name: another object, as Kubernetes sees it.
                diff.removed.append(Change(object: key.description, fromRevision: o.revision, toRevision: nil,
                                           lastActor: try remover(of: key, after: o.revision, upTo: to, in: view), changes: []))
                diff.added.append(Change(object: key.description, fromRevision: nil, toRevision: n.revision,
                                         lastActor: try view.event(at: n.revision)?.actor.description, changes: []))
            case (let o?, let n?) where o.revision != n.revision:
                diff.modified.append(Change(object: key.description, fromRevision: o.revision, toRevision: n.revision,
                                            lastActor: try view.event(at: n.revision)?.actor.description,
                                            changes: FieldDiff.changes(from: try o.shownJSON(in: view), to: try n.shownJSON(in: view))))
            default: break
            }
        }
        return diff
    }

    /// Compares the state of one journal at `revision` with another journal's state at `otherRevision`
    /// (a recording and its re-run): objects only in the second are added, only in the first
    /// removed, in both with other contents modified. `from` and `to` are the two revisions.
    public static func across(_ view: JournalView, at revision: UInt64, _ other: JournalView, at otherRevision: UInt64,
                              kind: ResourceKind? = nil, namespace: String? = nil) throws -> StateDiff {
        let a = try Projection.state(in: view, at: revision), b = try Projection.state(in: other, at: otherRevision)
        var diff = StateDiff(from: revision, to: otherRevision, added: [], removed: [], modified: [])
        for k in kind.map({ [$0] }) ?? ResourceKind.allCases {
            let left = Dictionary(uniqueKeysWithValues: a.list(k, namespace: namespace).map { ($0.key, $0) })
            let right = Dictionary(uniqueKeysWithValues: b.list(k, namespace: namespace).map { ($0.key, $0) })
            for key in Set(left.keys).union(right.keys).sorted() {
                switch (left[key], right[key]) {
                case (nil, let n?):
                    diff.added.append(Change(object: key.description, fromRevision: nil, toRevision: n.revision,
                                             lastActor: try other.event(at: n.revision)?.actor.description, changes: []))
                case (let o?, nil):
                    diff.removed.append(Change(object: key.description, fromRevision: o.revision, toRevision: nil,
                                               lastActor: try view.event(at: o.revision)?.actor.description, changes: []))
                case (let o?, let n?):
                    let changes = FieldDiff.changes(from: try o.shownJSON(in: view), to: try n.shownJSON(in: other))
                    if !changes.isEmpty {
                        diff.modified.append(Change(object: key.description, fromRevision: o.revision, toRevision: n.revision,
                                                    lastActor: try other.event(at: n.revision)?.actor.description, changes: changes))
                    }
                default: break
                }
            }
        }
        return diff
    }

    /// Who removed the object written at `revision`: the actor of its first `Deleted` event after it.
    static func remover(of key: ObjectKey, after revision: UInt64, upTo to: UInt64, in view: JournalView) throws -> String? {
        for r in try view.history(of: key) where r > revision && r <= to {
            if let e = try view.event(at: r), e.type == WriteType.deleted.rawValue { return e.actor.description }
        }
        return nil
    }
}
