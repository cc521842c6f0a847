import ClusterModel
import Journal

/// One object in the projection: where its current version is in the journal (the event that
/// last wrote it, whose revision is the object's `resourceVersion`) and the few fields the indexes
/// need. The object itself is read from that event when asked for, so a state of 100,000 pods
/// holds references, not 100,000 objects.
public struct StoredObject: Sendable, Equatable {
    public var kind: ResourceKind
    public var key: ObjectKey
    public var uid: String
    /// The revision of the event that last wrote the object: its `resourceVersion`.
    public var revision: UInt64
    /// The revision of the event that created it.
    public var createdRevision: UInt64
    /// For pods: `spec.nodeName`.
    public var nodeName: String?
    /// The uids in `metadata.ownerReferences`.
    public var ownerUIDs: [String]

    /// The object's JSON as stored, with `metadata.resourceVersion` set.
    public func json(in view: JournalView) throws -> JSONValue {
        try withStoredBytes(in: view) { try VersionedJSON.value($0, revision: revision) }
    }

    /// Calls `body` with the object's JSON as stored, read in place (valid only during the call;
    /// its `metadata.resourceVersion` is not set: it is `revision`).
    public func withStoredJSON<T>(in view: JournalView, _ body: (JSONSlice) throws -> T) throws -> T {
        try withStoredBytes(in: view) { bytes in
            guard let json = JSONSlice(bytes) else {
                throw JournalError(.corrupted, "revision \(revision), the last write of \(key), holds no object", revision: revision)
            }
            return try body(json)
        }
    }

    /// Appends the object's JSON as the API serves it (with `metadata.resourceVersion`), made
    /// from the stored bytes without parsing them.
    public func appendJSON(in view: JournalView, to out: inout [UInt8]) throws {
        try withStoredBytes(in: view) { VersionedJSON.append($0, revision: revision, to: &out) }
    }

    /// Calls `body` with the data of the event that last wrote the object, in place.
    private func withStoredBytes<T>(in view: JournalView, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        guard let result = try view.withHeader(at: revision, { try body($0.data) }) else {
            throw JournalError(.corrupted, "revision \(revision), the last write of \(key), is missing", revision: revision)
        }
        return result
    }

    /// The typed object, with `metadata.resourceVersion` set.
    public func decode(in view: JournalView) throws -> any Resource {
        try kind.decode(try json(in: view), strict: false)
    }
}

/// The cluster as of one revision: a pure fold of the journal's write events
/// (`state(n) = fold(apply, events[1...n])`). Decision events pass through untouched.
public struct ClusterState: Sendable, Equatable {
    /// The revision of the last event folded in.
    public private(set) var revision: UInt64 = 0
    /// The time of that event.
    public private(set) var time = Timestamp(microseconds: 0)
    public private(set) var objects: [ObjectKey: StoredObject] = [:]
    /// Keys by kind, then namespace (`""` for cluster-scoped kinds).
    public private(set) var byKind: [ResourceKind: [String: Set<ObjectKey>]] = [:]
    /// Pod keys by `spec.nodeName`.
    public private(set) var podsByNode: [String: Set<ObjectKey>] = [:]
    /// Keys by owner uid.
    public private(set) var byOwner: [String: Set<ObjectKey>] = [:]

    public init() {}

    /// Folds one event in. Events must come in revision order.
    public mutating func apply(_ event: Event) {
        event.data.withUnsafeBytes { apply(revision: event.revision, time: event.time, type: event.type, object: event.object, data: $0) }
    }

    /// Folds one event in from its header (no copy of the payload).
    public mutating func apply(_ header: EventHeader) {
        apply(revision: header.revision, time: header.time, type: header.type, object: header.object, data: header.data)
    }

    /// Folds one event in if it is about an object of `kinds` (any kind when nil); otherwise only
    /// moves the state's revision and time on.
    mutating func apply(_ header: EventHeader, only kinds: Set<ResourceKind>?) {
        if let kinds, let kind = ResourceKind(rawValue: header.object.kind), !kinds.contains(kind) {
            revision = header.revision
            time = header.time
            return
        }
        apply(header)
    }

    /// The fold. Which fields a write may change follows from its type: a status update or the
    /// start of a deletion changes neither node nor owners, a binding only the node.
    private mutating func apply(revision: UInt64, time: Timestamp, type typeName: String, object: ObjectRef, data: UnsafeRawBufferPointer) {
        self.revision = revision
        self.time = time
        guard let type = WriteType(rawValue: typeName), let kind = ResourceKind(rawValue: object.kind) else { return }
        let key = object.key
        if type == .deleted {
            remove(key)
            return
        }
        let index = objects.index(forKey: key)
        let old = index.map { objects.values[$0] }
        var node = old?.nodeName
        var owners = old?.ownerUIDs ?? []
        switch type {
        case .created, .updated:
            node = kind == .pod ? JSONFields.string(at: ["spec", "nodeName"], in: data) : nil
            owners = JSONFields.strings(inArrayAt: ["metadata", "ownerReferences"], member: "uid", in: data)
        case .bound:
            node = JSONFields.string(at: ["spec", "nodeName"], in: data)
        case .statusUpdated, .deletionStarted, .deleted:
            break
        }
        let object = StoredObject(
            kind: kind, key: key, uid: object.uid, revision: revision,
            createdRevision: type == .created ? revision : (old?.createdRevision ?? revision),
            nodeName: node, ownerUIDs: owners)
        if let index, let old {
            // Replacing in place costs no second hash lookup.
            objects.values[index] = object
            reindex(from: old, to: object)
        } else {
            insert(object)
        }
    }

    /// Adds or replaces an object, keeping the indexes right.
    mutating func insert(_ o: StoredObject) {
        let old = objects.updateValue(o, forKey: o.key)
        if old == nil { byKind[o.kind, default: [:]][o.key.namespace, default: []].insert(o.key) }
        reindex(from: old, to: o)
    }

    /// Moves the node and owner index entries of one object; most writes change neither.
    private mutating func reindex(from old: StoredObject?, to o: StoredObject) {
        if old?.nodeName != o.nodeName {
            if let n = old?.nodeName { drop(&podsByNode, n, o.key) }
            if let n = o.nodeName { podsByNode[n, default: []].insert(o.key) }
        }
        if old?.ownerUIDs != o.ownerUIDs {
            for uid in old?.ownerUIDs ?? [] { drop(&byOwner, uid, o.key) }
            for uid in o.ownerUIDs { byOwner[uid, default: []].insert(o.key) }
        }
    }

    private mutating func remove(_ key: ObjectKey) {
        guard let old = objects.removeValue(forKey: key) else { return }
        byKind[old.kind]?[key.namespace]?.remove(key)
        if byKind[old.kind]?[key.namespace]?.isEmpty == true { byKind[old.kind]?[key.namespace] = nil }
        if byKind[old.kind]?.isEmpty == true { byKind[old.kind] = nil }
        if let n = old.nodeName { drop(&podsByNode, n, key) }
        for uid in old.ownerUIDs { drop(&byOwner, uid, key) }
    }

    private func drop<K>(_ index: inout [K: Set<ObjectKey>], _ k: K, _ key: ObjectKey) {
        index[k]?.remove(key)
        if index[k]?.isEmpty == true { index[k] = nil }
    }

    /// A state built in one go from its objects (a snapshot's): every index filled at its final size.
    init(objects list: [StoredObject], revision: UInt64, time: Timestamp) {
        self.revision = revision
        self.time = time
        objects.reserveCapacity(list.count)
        var kinds: [ResourceKind: [String: [ObjectKey]]] = [:]
        var nodes: [String: [ObjectKey]] = [:]
        var owners: [String: [ObjectKey]] = [:]
        for o in list {
            objects[o.key] = o
            kinds[o.kind, default: [:]][o.key.namespace, default: []].append(o.key)
            if let n = o.nodeName { nodes[n, default: []].append(o.key) }
            for uid in o.ownerUIDs { owners[uid, default: []].append(o.key) }
        }
        byKind = kinds.mapValues { $0.mapValues(Set.init) }
        podsByNode = nodes.mapValues(Set.init)
        byOwner = owners.mapValues(Set.init)
    }

    // MARK: queries

    public func object(_ key: ObjectKey) -> StoredObject? { objects[key] }

    /// Objects of `kind` (in `namespace`, or all namespaces when nil), sorted by namespace and name.
    public func list(_ kind: ResourceKind, namespace: String? = nil) -> [StoredObject] {
        guard let byNamespace = byKind[kind] else { return [] }
        let keys: [ObjectKey]
        if let namespace {
            keys = Array(byNamespace[namespace] ?? [])
        } else {
            keys = byNamespace.values.flatMap { $0 }
        }
        return keys.sorted().compactMap { objects[$0] }
    }

    /// Pods bound to `node`, sorted.
    public func pods(on node: String) -> [StoredObject] {
        (podsByNode[node] ?? []).sorted().compactMap { objects[$0] }
    }

    /// Objects owned by `uid`, sorted.
    public func dependents(of uid: String) -> [StoredObject] {
        (byOwner[uid] ?? []).sorted().compactMap { objects[$0] }
    }

    /// Every namespaced object in `namespace`, sorted.
    public func contents(of namespace: String) -> [StoredObject] {
        byKind.flatMap { $0.value[namespace] ?? [] }.sorted().compactMap { objects[$0] }
    }

    public var count: Int { objects.count }
}
