/// Who caused an event: `user/alice`, `scheduler/default-scheduler`, `kubelet/node-2` …
public struct Actor: Hashable, Sendable, CustomStringConvertible {
    public var kind: String
    public var name: String

    public init(kind: String, name: String) {
        self.kind = kind
        self.name = name
    }

    public var description: String { "\(kind)/\(name)" }
}

/// What an event is about. `namespace` and `uid` are empty where they do not apply.
///
/// Events with the same `key` (kind, namespace, name) form one object's history, across
/// incarnations: a pod deleted and re-created under the same name keeps one history, and
/// `uid` tells the incarnations apart.
public struct ObjectRef: Hashable, Sendable, CustomStringConvertible {
    public var kind: String
    public var namespace: String
    public var name: String
    public var uid: String

    public init(kind: String, namespace: String = "", name: String, uid: String = "") {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    /// The history key: kind, namespace and name, without the uid.
    public var key: ObjectKey { ObjectKey(kind: kind, namespace: namespace, name: name) }

    public var description: String { key.description }
}

/// Identifies one object's history in the `by_object` index.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var kind: String
    public var namespace: String
    public var name: String

    public init(kind: String, namespace: String = "", name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public static func < (a: ObjectKey, b: ObjectKey) -> Bool {
        (a.kind, a.namespace, a.name) < (b.kind, b.namespace, b.name)
    }

    /// `Kind/namespace/name`, or `Kind/name` when cluster-scoped.
    public var description: String {
        namespace.isEmpty ? "\(kind)/\(name)" : "\(kind)/\(namespace)/\(name)"
    }
}

/// An event before it is appended: everything but its revision and hash, which the journal assigns.
public struct EventDraft: Sendable, Equatable {
    /// Time of the event. The journal keeps time non-decreasing along revisions: a time earlier
    /// than the head's is raised to the head's time when appended.
    public var time: Timestamp
    public var type: String
    public var actor: Actor
    public var object: ObjectRef
    /// Revision of the decision or request that led to this event.
    public var cause: UInt64?
    /// For decisions: the revision of the state the component read.
    public var observed: UInt64?
    /// For decisions: the revision of the event that woke the component.
    public var trigger: UInt64?
    /// Request id of the API call, for user writes.
    public var request: String?
    /// Type-specific payload: a JSON text (validated on append), stored byte for byte.
    public var data: [UInt8]

    public init(
        time: Timestamp, type: String, actor: Actor, object: ObjectRef,
        cause: UInt64? = nil, observed: UInt64? = nil, trigger: UInt64? = nil,
        request: String? = nil, data: [UInt8] = Array("{}".utf8)
    ) {
        self.time = time
        self.type = type
        self.actor = actor
        self.object = object
        self.cause = cause
        self.observed = observed
        self.trigger = trigger
        self.request = request
        self.data = data
    }
}

/// A committed event: the draft's fields plus its revision and chain hash.
@dynamicMemberLookup
public struct Event: Sendable, Equatable {
    public var revision: UInt64
    /// Everything but the revision and hash (with the time as stored).
    public var draft: EventDraft
    /// SHA-256(previous event's hash ‖ canonical bytes of this event).
    public var hash: ChainHash

    public init(revision: UInt64, draft: EventDraft, hash: ChainHash) {
        self.revision = revision
        self.draft = draft
        self.hash = hash
    }

    /// The draft's fields read directly: `event.type`, `event.object`, `event.data` …
    public subscript<T>(dynamicMember field: KeyPath<EventDraft, T>) -> T { draft[keyPath: field] }
}

/// The newest committed event's revision, hash and time; revision 0 for an empty journal.
public struct Head: Sendable, Equatable {
    public var revision: UInt64
    public var hash: ChainHash
    public var time: Timestamp

    public init(revision: UInt64, hash: ChainHash, time: Timestamp) {
        self.revision = revision
        self.hash = hash
        self.time = time
    }

    public static let empty = Head(revision: 0, hash: .zero, time: Timestamp(microseconds: 0))
}

/// An event's revision, time, type, object and payload, as `JournalView.forEachHeader` hands them
/// out: `data` points into the journal's memory and is valid only inside that call.
public struct EventHeader {
    public var revision: UInt64
    public var time: Timestamp
    public var type: String
    public var object: ObjectRef
    public var data: UnsafeRawBufferPointer
    /// The whole record, for the fields decoded only on demand.
    let record: UnsafeRawBufferPointer

    /// Who wrote the event (decoded when asked for: folds do not need it).
    public var actor: Actor { EventCodec.actor(record: record) ?? Actor(kind: "", name: "") }
}
