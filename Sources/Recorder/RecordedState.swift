import ClusterModel
import ControlPlane
import Journal

/// What a recording holds of the watched cluster — each object's last state and resourceVersion —
/// and how what a watch or a list shows becomes journal events.
///
/// A change seen on a watch becomes the write it must have been: `Created` for an object not
/// known, `Deleted` for a `DELETED` event, and otherwise, from what changed, `Bound` (a pod's
/// `spec.nodeName` set), `DeletionStarted` (`deletionTimestamp` set), `StatusUpdated` (only
/// `status` changed) or `Updated`. A watch does not say who wrote: the actor is the field manager
/// whose `managedFields` entry the write added or changed, named as the component it is
/// (`kube-scheduler`, `kubelet`, `kube-controller-manager`) or as `fieldManager/NAME`, and
/// `unknown/watch` where the entries say nothing (deletions, bindings, writes that left them as
/// they were). Each event's `request` is
/// `rv:` and the object's resourceVersion on the recorded server.
public struct RecordedState: Sendable {
    struct Known: Sendable {
        var resourceVersion: String
        var object: JSONValue
    }

    private var objects: [ObjectKey: Known] = [:]
    /// Per kind, the newest resourceVersion the recording holds: where its watch resumes.
    public private(set) var resumeFrom: [String: String] = [:]

    /// The actor of a write the watch shows no author of.
    public static let unknownActor = Actor(kind: "unknown", name: "watch")
    /// The actor of `Listed` events: the recorder itself.
    public static let recorderActor = Actor(kind: "recorder", name: "kj-record")
    /// The prefix of every event's `request`: the object's resourceVersion on the recorded server.
    public static let requestPrefix = "rv:"

    public init() {}

    /// The state a recorded journal holds, to carry on recording into it.
    public init(journal view: JournalView) throws {
        for e in try view.events(in: 1...UInt64.max) {
            guard let rv = e.request.flatMap({ $0.hasPrefix(Self.requestPrefix) ? String($0.dropFirst(Self.requestPrefix.count)) : nil }) else { continue }
            advance(e.object.kind, to: rv)
            guard let type = WriteType(rawValue: e.type) else { continue }
            objects[e.object.key] = type == .deleted ? nil : Known(resourceVersion: rv, object: try JSONValue.parse(e.data))
        }
    }

    /// The event a watch's `ADDED`, `MODIFIED` or `DELETED` of `object` (of `kind`, seen at `time`)
    /// stands for; nil when the recording already holds that version.
    public mutating func observe(_ watchType: String, _ object: JSONValue, kind: ResourceKind, at time: Timestamp) -> EventDraft? {
        let object = Self.complete(object, kind: kind)
        let key = Self.key(object, kind: kind)
        let rv = object["metadata"]?["resourceVersion"]?.stringValue ?? ""
        advance(kind.rawValue, to: rv)
        let old = objects[key]
        if watchType == "DELETED" {
            guard old != nil || !rv.isEmpty else { return nil }
            objects[key] = nil
            return draft(.deleted, object, key: key, rv: rv, actor: Self.unknownActor, at: time)
        }
        if let old, old.resourceVersion == rv { return nil }
        let type = Self.writeType(from: old?.object, to: object, kind: kind)
        objects[key] = Known(resourceVersion: rv, object: object)
        return draft(type, object, key: key, rv: rv, actor: Self.actor(of: object, was: old?.object, type, kind: kind), at: time)
    }

    /// The events a full list of `kind` at `resourceVersion` stands for: each object that is new or
    /// changed since the recording last saw it, and a `Deleted` (by `unknown/watch`) for each it
    /// holds that the list no longer has, or has as another incarnation (another uid under the
    /// same name) — deleted while no watch was open.
    public mutating func relist(_ kind: ResourceKind, items: [JSONValue], resourceVersion: String, at time: Timestamp) -> (drafts: [EventDraft], deleted: Int) {
        var drafts: [EventDraft] = []
        var listed: Set<ObjectKey> = []
        var replaced = 0
        for item in items {
            let object = Self.complete(item, kind: kind)
            let key = Self.key(object, kind: kind)
            listed.insert(key)
            // Another incarnation under the same name: the one held was deleted unseen.
            if let held = objects[key], let uid = object["metadata"]?["uid"]?.stringValue, let heldUID = held.object["metadata"]?["uid"]?.stringValue,
               uid != heldUID {
                objects[key] = nil
                replaced += 1
                drafts.append(draft(.deleted, held.object, key: key, rv: resourceVersion, actor: Self.unknownActor, at: time))
            }
            if let d = observe("ADDED", object, kind: kind, at: time) { drafts.append(d) }
        }
        let gone = objects.keys.filter { $0.kind == kind.rawValue && !listed.contains($0) }.sorted()
        for key in gone {
            guard let last = objects.removeValue(forKey: key) else { continue }
            drafts.append(draft(.deleted, last.object, key: key, rv: resourceVersion, actor: Self.unknownActor, at: time))
        }
        advance(kind.rawValue, to: resourceVersion)
        return (drafts, gone.count + replaced)
    }

    /// How many objects of `kind` the recording holds.
    public func count(of kind: ResourceKind) -> Int { objects.keys.count { $0.kind == kind.rawValue } }

    private mutating func advance(_ kind: String, to rv: String) {
        guard !rv.isEmpty else { return }
        if let current = resumeFrom[kind], Self.isOlder(rv, than: current) { return }
        resumeFrom[kind] = rv
    }

    /// Whether resourceVersion `a` is older than `b`. They are opaque strings to clients, but every
    /// server in practice (etcd, kj serve) counts them up, so decimal ones compare as numbers.
    static func isOlder(_ a: String, than b: String) -> Bool {
        guard let x = UInt64(a), let y = UInt64(b) else { return false }
        return x < y
    }

    private func draft(_ type: WriteType, _ object: JSONValue, key: ObjectKey, rv: String, actor: Actor, at time: Timestamp) -> EventDraft {
        // The journal's revision is the resourceVersion on read; the server's is in `request`.
        let data = object.setting(["metadata", "resourceVersion"], to: nil)
        let uid = object["metadata"]?["uid"]?.stringValue ?? ""
        return EventDraft(time: time, type: type.rawValue, actor: actor, object: ObjectRef(kind: key.kind, namespace: key.namespace, name: key.name, uid: uid),
                          request: Self.requestPrefix + rv, data: data.serialized())
    }

    // MARK: reading an object

    /// A list's items carry no `kind` and `apiVersion`; the journal's objects do.
    static func complete(_ object: JSONValue, kind: ResourceKind) -> JSONValue {
        guard object["kind"] == nil || object["apiVersion"] == nil else { return object }
        return object.setting(["kind"], to: .string(kind.kind)).setting(["apiVersion"], to: .string(kind.apiVersion))
    }

    static func key(_ object: JSONValue, kind: ResourceKind) -> ObjectKey {
        let metadata = object["metadata"]
        return ObjectKey(kind: kind.rawValue, namespace: kind.namespaced ? metadata?["namespace"]?.stringValue ?? "" : "",
                         name: metadata?["name"]?.stringValue ?? "")
    }

    /// The write that turned `old` into `new`.
    static func writeType(from old: JSONValue?, to new: JSONValue, kind: ResourceKind) -> WriteType {
        guard let old else { return .created }
        if old["metadata"]?["deletionTimestamp"] == nil, new["metadata"]?["deletionTimestamp"] != nil { return .deletionStarted }
        if kind == .pod, (old["spec"]?["nodeName"]?.stringValue ?? "").isEmpty, !(new["spec"]?["nodeName"]?.stringValue ?? "").isEmpty {
            return .bound
        }
        func withoutStatus(_ o: JSONValue) -> JSONValue {
            o.setting(["status"], to: nil).setting(["metadata", "resourceVersion"], to: nil).setting(["metadata", "managedFields"], to: nil)
        }
        return withoutStatus(old) == withoutStatus(new) ? .statusUpdated : .updated
    }

    /// Who wrote `object` (which was `old`), as far as its `managedFields` tell: the manager whose
    /// entry the write added or changed (any entry, for a new object), the newest if several — of
    /// the status subresource for a status write — named as the component it is.
    static func actor(of object: JSONValue, was old: JSONValue?, _ type: WriteType, kind: ResourceKind) -> Actor {
        func entries(_ o: JSONValue?) -> [JSONValue] { o?["metadata"]?["managedFields"]?.arrayValue ?? [] }
        let before = Set(entries(old))
        let written = entries(object).enumerated().compactMap { offset, e -> (time: String, status: Int, offset: Int, manager: String)? in
            guard let manager = e["manager"]?.stringValue, !manager.isEmpty, !before.contains(e) else { return nil }
            let status = e["subresource"]?.stringValue == "status"
            return (e["time"]?.stringValue ?? "", status == (type == .statusUpdated) ? 1 : 0, offset, manager)
        }
        // Times are RFC 3339 in seconds, which sort as text.
        guard let newest = written.max(by: { ($0.time, $0.status, $0.offset) < ($1.time, $1.status, $1.offset) }) else { return unknownActor }
        switch newest.manager {
        case "kube-scheduler": return Actor(kind: "scheduler", name: "default-scheduler")
        case "kube-controller-manager": return Actor(kind: "controller", name: "kube-controller-manager")
        case "kube-apiserver": return Actor(kind: "controlplane", name: "kube-apiserver")
        case "kubelet":
            let node = kind == .node ? object["metadata"]?["name"]?.stringValue : object["spec"]?["nodeName"]?.stringValue
            return Actor(kind: "kubelet", name: node ?? "kubelet")
        default: return Actor(kind: "fieldManager", name: newest.manager)
        }
    }
}
