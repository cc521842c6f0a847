import ClusterModel
import ControlPlane
import Journal

/// One line of an object's history: an event about it, a decision that caused one, or a write
/// elsewhere that one of its events led to.
public struct HistoryEntry: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable {
        /// An event about the object itself.
        case object
        /// The decision or request that led to one of the object's events.
        case origin
        /// A decision about another object, or a write to one, that the object's events led to
        /// (the endpoints controller removing a terminating pod, a `Scheduled` Event …).
        case consequence
    }

    public var revision: UInt64
    public var time: String
    public var type: String
    /// `user/alice`, `scheduler/default-scheduler`, `controller/endpoints`, `kubelet/node-1`.
    public var actor: String
    /// `Kind/namespace/name` of what the event is about.
    public var object: String
    public var role: Role
    public var summary: String
    public var cause: UInt64?
    public var trigger: UInt64?
    /// Field-level changes against the previous version of the object written (writes only).
    public var changes: [FieldChange]
}

/// The life of one object, creation to removal, from the journal.
public struct ObjectHistory: Sendable, Equatable, Codable {
    public var kind: String
    public var namespace: String
    public var name: String
    /// The incarnation shown (a name can be reused: each re-creation has a new uid).
    public var uid: String
    /// The uids of every incarnation, oldest first.
    public var incarnations: [String]
    public var entries: [HistoryEntry]

    /// Reads the history of `key` up to revision `until` (default: the head). `uid` picks an
    /// incarnation; by default the newest.
    public static func load(_ key: ObjectKey, uid wanted: String? = nil, until: UInt64? = nil, in view: JournalView) throws(QueryError) -> ObjectHistory {
        do {
            let head = try until ?? view.head().revision
            let all = try view.history(of: key).filter { $0 <= head }.compactMap { try view.event(at: $0) }
            var incarnations: [String] = []
            for e in all where !e.object.uid.isEmpty && !incarnations.contains(e.object.uid) { incarnations.append(e.object.uid) }
            // An object known only from records that do not name its uid (an audit log at level
            // Metadata) has one incarnation, without a uid.
            if incarnations.isEmpty, all.contains(where: { WriteType(rawValue: $0.type) != nil }) { incarnations = [""] }
            guard let uid = wanted ?? incarnations.last else {
                if until != nil, let first = try view.history(of: key).first {
                    throw QueryError.invalid("\(key.kind.lowercased()) \(key.namespace.isEmpty ? "" : key.namespace + "/")\(key.name) did not exist yet at revision \(head); its first event is at revision \(first)")
                }
                throw QueryError.notFound(key, suggestions: try Suggestions.names(like: key, in: view))
            }
            guard incarnations.contains(uid) else {
                throw QueryError.invalid("\(key.kind.lowercased()) \(key.namespace.isEmpty ? "" : key.namespace + "/")\(key.name) never had uid \(uid); its incarnations: \(incarnations.joined(separator: ", "))")
            }
            // Events without a uid (a kubelet's registration decision) belong to the incarnation they precede.
            let own = all.enumerated().filter { i, e in
                e.object.uid == uid || (e.object.uid.isEmpty && all[(i + 1)...].first(where: { !$0.object.uid.isEmpty })?.object.uid == uid)
            }.map(\.element)
            var builder = Builder(view: view, key: key, until: head)
            try builder.build(own)
            return ObjectHistory(kind: key.kind, namespace: key.namespace, name: key.name, uid: uid, incarnations: incarnations,
                                 entries: builder.entries.values.sorted { $0.revision < $1.revision })
        } catch let e as QueryError {
            throw e
        } catch {
            throw .journal("\(error)")
        }
    }

    private struct Builder {
        let view: JournalView
        let key: ObjectKey
        let until: UInt64
        var entries: [UInt64: HistoryEntry] = [:]

        mutating func build(_ own: [Event]) throws {
            var previous: JSONValue?
            for e in own {
                let data = try e.shownData()
                let isWrite = WriteType(rawValue: e.type) != nil
                let changes = isWrite && e.type != "Created" && e.type != "Deleted" ? FieldDiff.changes(from: previous, to: data) : []
                if isWrite, e.type != "Deleted" { previous = data }
                add(e, data, .object, changes)
            }
            for e in own {
                if let cause = e.cause, entries[cause] == nil, let c = try view.event(at: cause) {
                    add(c, try c.shownData(), .origin, try changesOfOtherObject(c))
                }
                for r in try view.caused(by: e.revision) where r <= until && entries[r] == nil {
                    guard let next = try view.event(at: r), next.object.key != key else { continue }
                    add(next, try next.shownData(), .consequence, try changesOfOtherObject(next))
                    // A decision elsewhere that one of our events triggered: show what it wrote.
                    guard next.type.hasSuffix("Decided") else { continue }
                    for w in try view.caused(by: r) where w <= until && entries[w] == nil {
                        guard let write = try view.event(at: w), write.cause == r, write.object.key != key else { continue }
                        add(write, try write.shownData(), .consequence, try changesOfOtherObject(write))
                    }
                }
            }
        }

        /// For a write to another object: its changes against that object's previous version.
        func changesOfOtherObject(_ e: Event) throws -> [FieldChange] {
            guard WriteType(rawValue: e.type) != nil, e.type != "Created", e.type != "Deleted", e.object.kind != CoreEvent.kind else { return [] }
            // The object's previous version: its last write before this one (decisions about it are not versions).
            for before in try view.history(of: e.object.key).reversed() where before < e.revision {
                guard let old = try view.event(at: before), WriteType(rawValue: old.type) != nil else { continue }
                return FieldDiff.changes(from: try old.shownData(), to: try e.shownData())
            }
            return []
        }

        mutating func add(_ e: Event, _ data: JSONValue, _ role: HistoryEntry.Role, _ changes: [FieldChange]) {
            entries[e.revision] = HistoryEntry(
                revision: e.revision, time: e.time.rfc3339, type: e.type, actor: e.actor.description,
                object: e.object.key.description, role: role, summary: EventSummary.line(for: e, data: data),
                cause: e.cause, trigger: e.trigger, changes: changes)
        }
    }
}
