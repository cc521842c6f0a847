/// One entry of `metadata.managedFields`: the fields one manager owns through one kind of operation.
public struct ManagedFieldsEntry: Codable, Sendable, Equatable {
    public var manager: String?
    /// `Apply` or `Update`.
    public var operation: String?
    public var apiVersion: String?
    public var time: String?
    public var fieldsType: String?
    public var fieldsV1: JSONValue?
    public var subresource: String?

    public init(manager: String, operation: String, apiVersion: String, time: String, fields: FieldSet, subresource: String?) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.fieldsType = "FieldsV1"
        self.fieldsV1 = fields.fieldsV1
        self.subresource = subresource
    }

    /// The owned fields (empty when the entry holds none or cannot be read).
    public var fields: FieldSet { fieldsV1.flatMap(FieldSet.init(fieldsV1:)) ?? FieldSet() }

    func isEntry(of manager: String, _ operation: String, _ subresource: String?) -> Bool {
        self.manager == manager && self.operation == operation && (self.subresource ?? "") == (subresource ?? "")
    }

    /// How conflicts name the entry: `"kubectl"`, or `"kubectl-client-side-apply" using apps/v1`
    /// for an Update manager.
    var conflictName: String {
        let name = JSONValue.string(manager ?? "").jsonString
        return operation == FieldManager.update ? "\(name) using \(apiVersion ?? "")" : name
    }
}

/// Server-side apply and field ownership, as kube-apiserver's field manager keeps them: every write
/// records in `metadata.managedFields` which manager set which fields; an Update takes the fields
/// it changes, an Apply owns exactly the fields of its configuration, conflicts with other
/// managers' fields unless forced, and removes the fields it stopped applying that nobody else owns.
public enum FieldManager {
    public static let apply = "Apply"
    public static let update = "Update"
    /// The manager under which `kubectl apply --server-side` applies.
    public static let kubectl = "kubectl"
    static let lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

    /// An apply that collides with fields other managers own.
    public struct Conflicts: Error, Sendable, CustomStringConvertible {
        public struct Conflict: Sendable {
            /// The other manager, as the message names it.
            public var manager: String
            /// The field, as `.spec.replicas`.
            public var field: String
        }
        public var conflicts: [Conflict]

        /// kube-apiserver's message.
        public var description: String {
            if conflicts.count == 1 { return "Apply failed with 1 conflict: conflict with \(conflicts[0].manager): \(conflicts[0].field)" }
            var lines: [String] = []
            for manager in Set(conflicts.map(\.manager)).sorted() {
                lines.append("conflicts with \(manager):")
                lines += conflicts.filter { $0.manager == manager }.map { "- \($0.field)" }
            }
            return "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
        }
    }

    /// The part of an object field ownership covers: no server-set metadata, and only the status
    /// of a status write, only the rest of other writes (for kinds with a status subresource).
    public static func scope(_ object: JSONValue?, kind: ResourceKind, subresource: String?) -> JSONValue? {
        guard case .object(var o)? = object else { return object }
        o["apiVersion"] = nil
        o["kind"] = nil
        if case .object(var meta)? = o["metadata"] {
            for server in ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                           "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"] {
                meta[server] = nil
            }
            o["metadata"] = meta.isEmpty ? nil : .object(meta)
        }
        if subresource == "status" { return .object(o["status"].map { ["status": $0] } ?? [:]) }
        if kind.definition.subresources.contains(.status) { o["status"] = nil }
        return .object(o)
    }

    /// The entries after an Update (create, update or patch) by `manager` from `old` to `new`: the
    /// manager takes every field the write added or changed, other managers lose them, and fields
    /// the write removed leave every manager.
    public static func update(
        _ kind: ResourceKind, old: JSONValue?, new: JSONValue, entries: [ManagedFieldsEntry],
        manager: String, subresource: String?, time: String
    ) -> [ManagedFieldsEntry] {
        let schema = TypedSchema.of(kind)
        let (changed, removed) = schema.changes(from: scope(old, kind: kind, subresource: subresource) ?? [:],
                                                to: scope(new, kind: kind, subresource: subresource))
        var out: [ManagedFieldsEntry] = []
        var mine: ManagedFieldsEntry?
        for entry in entries {
            if entry.isEntry(of: manager, update, subresource) { mine = entry; continue }
            var e = entry
            let fields = entry.fields
            let kept = fields.subtracting(changed).removingSubtrees(removed)
            if kept != fields { e.fieldsV1 = kept.fieldsV1 }
            out.append(e)
        }
        let before = mine?.fields ?? FieldSet()
        let owned = before.union(changed).removingSubtrees(removed)
        if owned != before || mine == nil {
            mine = ManagedFieldsEntry(manager: manager, operation: update, apiVersion: kind.apiVersion, time: time, fields: owned, subresource: subresource)
        }
        out.append(mine!)
        return sorted(out)
    }

    /// An apply of `config` by `manager` to `live` (nil: the object does not exist yet): the merged
    /// object and the entries after it. Throws `Conflicts` when the configuration changes fields
    /// another manager owns, unless `force`; `TypedSchema.TypeError` for a configuration that does
    /// not fit the kind's schema.
    ///
    /// What the apply changes is judged on the merged object as it will be stored, after
    /// `defaulted` (the kind's defaulting): a configuration that leaves out a default the server
    /// fills in again changes nothing and conflicts with nobody. (kube-apiserver compares before
    /// defaulting, so that kubectl's first server-side apply after a client-side one conflicts on
    /// atomic fields holding defaults, such as a StatefulSet's `volumeClaimTemplates`.)
    public static func apply(
        _ kind: ResourceKind, live: JSONValue?, config: JSONValue, entries: [ManagedFieldsEntry],
        manager: String, force: Bool, time: String, defaulted: (JSONValue) throws -> JSONValue = { $0 }
    ) throws -> (object: JSONValue, entries: [ManagedFieldsEntry]) {
        let schema = TypedSchema.of(kind)
        var configuration = config
        if kind.definition.subresources.contains(.status) { configuration["status"] = nil }
        let applied = try schema.fieldsSet(by: scope(configuration, kind: kind, subresource: nil) ?? [:])
        var merged = try schema.merge(configuration, into: live ?? [:])
        let stored = try defaulted(merged)
        let (changed, _) = schema.changes(from: scope(live, kind: kind, subresource: nil) ?? [:], to: scope(stored, kind: kind, subresource: nil))

        var others = entries.filter { !$0.isEntry(of: manager, apply, nil) }
        let conflicts = others.flatMap { entry in
            entry.fields.intersection(changed).paths.map { Conflicts.Conflict(manager: entry.conflictName, field: FieldSet.describe($0)) }
        }
        if !conflicts.isEmpty, !force, !(manager == kubectl && allowedByLastApplied(conflicts, live: live, schema: schema, kind: kind)) {
            throw Conflicts(conflicts: conflicts.sorted { ($0.manager, $0.field) < ($1.manager, $1.field) })
        }
        others = others.map { entry in
            var e = entry
            let fields = entry.fields
            let kept = fields.subtracting(changed)
            if kept != fields { e.fieldsV1 = kept.fieldsV1 }
            return e
        }

        // Fields this manager applied before and no longer does go, unless someone else holds them.
        let previous = entries.first { $0.isEntry(of: manager, apply, nil) }
        let owned = others.reduce(applied) { $0.union($1.fields) }
        let dropped = (previous?.fields ?? FieldSet()).subtracting(owned).withoutAncestors(of: owned)
        merged = schema.removing(dropped, from: merged)

        // kubectl's server-side apply keeps the annotation of client-side apply up to date.
        if manager == kubectl, let annotation = live?["metadata"]?["annotations"]?[lastApplied], annotation != .null {
            merged["metadata"]?["annotations"]?[lastApplied] = .string(lastAppliedConfiguration(config))
        }

        // The entry keeps its time while what it owns stays the same.
        let unchanged = previous.flatMap { $0.fields == applied && $0.apiVersion == kind.apiVersion ? $0 : nil }
        let mine = unchanged ?? ManagedFieldsEntry(manager: manager, operation: apply, apiVersion: kind.apiVersion, time: time, fields: applied, subresource: nil)
        return (merged, sorted(others + [mine]))
    }

    /// kube-apiserver lets kubectl's first server-side apply take over the fields its own
    /// client-side apply set: those of the last-applied annotation that still hold its values.
    private static func allowedByLastApplied(_ conflicts: [Conflicts.Conflict], live: JSONValue?, schema: TypedSchema, kind: ResourceKind) -> Bool {
        guard let text = live?["metadata"]?["annotations"]?[lastApplied]?.stringValue,
              let last = scope(try? JSONValue.parse(text), kind: kind, subresource: nil),
              let applied = try? schema.fieldsSet(by: last) else { return false }
        let differing = schema.changes(from: scope(live, kind: kind, subresource: nil), to: last).changed
        let allowedPaths = Set(applied.subtracting(differing).paths.map(FieldSet.describe))
        return conflicts.allSatisfy { allowedPaths.contains($0.field) }
    }

    /// The annotation's value for an applied configuration: its JSON without the annotation itself.
    static func lastAppliedConfiguration(_ config: JSONValue) -> String {
        var c = config
        c["metadata"]?["annotations"]?[lastApplied] = nil
        return c.jsonString + "\n"
    }

    /// A time to give `update` and `apply` when the write's time is not known yet: `stamping`
    /// replaces it once it is.
    public static let writeTime = "(the write's time)"

    /// `entries` with the entries a write changed given its `time`, in kube-apiserver's order
    /// (which sorts by time, so it is made again).
    public static func stamping(_ entries: [ManagedFieldsEntry], time: String) -> [ManagedFieldsEntry] {
        sorted(entries.map { e in
            var e = e
            if e.time == writeTime { e.time = time }
            return e
        })
    }

    /// Entries in kube-apiserver's order: Apply before Update, then by time, manager, version.
    static func sorted(_ entries: [ManagedFieldsEntry]) -> [ManagedFieldsEntry] {
        entries.filter { !$0.fields.isEmpty }.sorted {
            ($0.operation ?? "", $0.time ?? "", $0.manager ?? "", $0.apiVersion ?? "", $0.subresource ?? "")
                < ($1.operation ?? "", $1.time ?? "", $1.manager ?? "", $1.apiVersion ?? "", $1.subresource ?? "")
        }
    }
}
