import ClusterModel
import Journal

/// One object in the projection: its stored JSON (without `resourceVersion`, which is the
/// revision of the event that last wrote it) and the few fields the indexes need.
public struct StoredObject: Sendable, Equatable {
    public var kind: ResourceKind
    public var key: ObjectKey
    public var uid: String
    /// The revision of the event that last wrote the object: its `resourceVersion`.
    public var revision: UInt64
    /// The revision of the event that created it.
    public var createdRevision: UInt64
    /// The object as JSON, exactly as the event stored it.
    public var data: [UInt8]
    /// For pods: `spec.nodeName`.
    public var nodeName: String?
    /// The uids in `metadata.ownerReferences`.
    public var ownerUIDs: [String]

    /// The typed object, with `metadata.resourceVersion` set.
    public func decode() throws -> any Resource {
        var object = try kind.decode(try JSONValue.parse(data), strict: false)
        object.metadata.resourceVersion = String(revision)
        return object
    }

    /// The typed object as `R`.
    public func decode<R: Resource>(as type: R.Type) throws -> R {
        var object = try ValueDecoder(strict: false).decode(R.self, from: try JSONValue.parse(data))
        object.metadata.resourceVersion = String(revision)
        return object
    }

    /// The object's JSON with `metadata.resourceVersion` set.
    public func json() throws -> JSONValue {
        var v = try JSONValue.parse(data)
        var meta = v["metadata"] ?? .object([:])
        meta["resourceVersion"] = .string(String(revision))
        v["metadata"] = meta
        return v
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
        revision = event.revision
        time = event.time
        guard let type = WriteType(rawValue: event.type), let kind = ResourceKind(rawValue: event.object.kind) else { return }
        let key = event.object.key
        if type == .deleted {
            remove(key)
            return
        }
        let (node, owners) = event.data.withUnsafeBytes { raw in
            (kind == .pod ? JSONFields.string(at: ["spec", "nodeName"], in: raw) : nil,
             JSONFields.strings(inArrayAt: ["metadata", "ownerReferences"], member: "uid", in: raw))
        }
        let created = type == .created ? event.revision : (objects[key]?.createdRevision ?? event.revision)
        insert(StoredObject(
            kind: kind, key: key, uid: event.object.uid, revision: event.revision, createdRevision: created,
            data: event.data, nodeName: node, ownerUIDs: owners))
    }

    /// Adds or replaces an object, keeping the indexes right.
    mutating func insert(_ o: StoredObject) {
        if let old = objects[o.key] { unindex(old) }
        objects[o.key] = o
        byKind[o.kind, default: [:]][o.key.namespace, default: []].insert(o.key)
        if let n = o.nodeName { podsByNode[n, default: []].insert(o.key) }
        for uid in o.ownerUIDs { byOwner[uid, default: []].insert(o.key) }
    }

    private mutating func remove(_ key: ObjectKey) {
        guard let old = objects.removeValue(forKey: key) else { return }
        unindex(old)
    }

    private mutating func unindex(_ o: StoredObject) {
        func drop<K>(_ index: inout [K: Set<ObjectKey>], _ k: K) {
            index[k]?.remove(o.key)
            if index[k]?.isEmpty == true { index[k] = nil }
        }
        byKind[o.kind]?[o.key.namespace]?.remove(o.key)
        if byKind[o.kind]?[o.key.namespace]?.isEmpty == true { byKind[o.kind]?[o.key.namespace] = nil }
        if byKind[o.kind]?.isEmpty == true { byKind[o.kind] = nil }
        if let n = o.nodeName { drop(&podsByNode, n) }
        for uid in o.ownerUIDs { drop(&byOwner, uid) }
    }

    /// Sets revision and time, for a state rebuilt from a snapshot.
    mutating func setPosition(revision: UInt64, time: Timestamp) {
        self.revision = revision
        self.time = time
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
