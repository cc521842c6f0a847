import ClusterModel
import Foundation
import Journal

/// Typed objects as of a revision, kept current from the write events — what components read
/// (Kubernetes' informer cache). Not thread-safe: one driver owns it.
public final class ObjectCache {
    public private(set) var revision: UInt64 = 0
    public private(set) var time = Timestamp(microseconds: 0)
    private var objects: [ObjectKey: any Resource] = [:]
    private var keysByKind: [ResourceKind: Set<ObjectKey>] = [:]
    private var keysByOwner: [String: Set<ObjectKey>] = [:]
    private var podsByNode: [String: Set<ObjectKey>] = [:]
    /// core/v1 Events by involved object uid, reason and message (for counting repeats).
    private var coreEvents: [String: ObjectKey] = [:]

    public init() {}

    /// Fills the cache from a state and the events it points at.
    public func load(_ state: ClusterState, from view: JournalView) throws {
        objects.removeAll()
        keysByKind.removeAll()
        keysByOwner.removeAll()
        podsByNode.removeAll()
        coreEvents.removeAll()
        for kind in ResourceKind.allCases {
            for stored in state.list(kind) { put(try stored.decode(in: view)) }
        }
        revision = state.revision
        time = state.time
    }

    /// Applies one committed event (decisions only move the revision). `typed`, when given, is
    /// the object the event wrote, already decoded.
    public func apply(_ event: Event, typed: (any Resource)? = nil) throws {
        revision = event.revision
        time = event.time
        guard let type = WriteType(rawValue: event.type), let kind = ResourceKind(rawValue: event.object.kind) else { return }
        let key = event.object.key
        if type == .deleted {
            if let old = objects.removeValue(forKey: key) { unindexOwners(old, key) }
            keysByKind[kind]?.remove(key)
            return
        }
        if let typed, typed.metadata.resourceVersion == String(event.revision) {
            put(typed)
            return
        }
        var object = try kind.decode(try JSONValue.parse(event.data), strict: false)
        object.metadata.resourceVersion = String(event.revision)
        put(object)
    }

    private func put(_ object: any Resource) {
        let key = object.objectKey
        if let old = objects.updateValue(object, forKey: key) { unindexOwners(old, key) }
        keysByKind[ResourceKind(of: type(of: object)), default: []].insert(key)
        for ref in object.metadata.ownerReferences ?? [] { keysByOwner[ref.uid, default: []].insert(key) }
        if let node = (object as? Pod)?.spec.nodeName { podsByNode[node, default: []].insert(key) }
        if let e = object as? CoreEvent { coreEvents[Self.eventKey(e.involvedObject.uid, e.reason, e.message)] = key }
    }

    static func eventKey(_ uid: String?, _ reason: String?, _ message: String?) -> String {
        "\(uid ?? "")\u{0}\(reason ?? "")\u{0}\(message ?? "")"
    }

    /// The newest core/v1 Event about `uid` with this reason and message, if any.
    public func coreEvent(about uid: String?, reason: String, message: String) -> CoreEvent? {
        coreEvents[Self.eventKey(uid, reason, message)].flatMap { objects[$0] as? CoreEvent }
    }

    private func unindexOwners(_ old: any Resource, _ key: ObjectKey) {
        if let e = old as? CoreEvent {
            let k = Self.eventKey(e.involvedObject.uid, e.reason, e.message)
            if coreEvents[k] == key { coreEvents[k] = nil }
        }
        if let node = (old as? Pod)?.spec.nodeName {
            podsByNode[node]?.remove(key)
            if podsByNode[node]?.isEmpty == true { podsByNode[node] = nil }
        }
        for ref in old.metadata.ownerReferences ?? [] {
            keysByOwner[ref.uid]?.remove(key)
            if keysByOwner[ref.uid]?.isEmpty == true { keysByOwner[ref.uid] = nil }
        }
    }

    /// The pods bound to `node`, sorted.
    public func pods(on node: String) -> [Pod] {
        (podsByNode[node] ?? []).sorted().compactMap { objects[$0] as? Pod }
    }

    /// The objects of a kind that name `uid` as an owner, sorted.
    public func owned<R: Resource>(by uid: String?, as type: R.Type) -> [R] {
        guard let uid else { return [] }
        return (keysByOwner[uid] ?? []).filter { $0.kind == R.kind }.sorted().compactMap { objects[$0] as? R }
    }

    public func get<R: Resource>(_ type: R.Type, namespace: String? = nil, name: String) -> R? {
        objects[ObjectKey(kind: R.kind, namespace: R.namespaced ? (namespace ?? "default") : "", name: name)] as? R
    }

    public func get(_ key: ObjectKey) -> (any Resource)? { objects[key] }

    /// Every object of a kind (in one namespace if given), sorted by namespace and name.
    public func list<R: Resource>(_ type: R.Type, namespace: String? = nil) -> [R] {
        (keysByKind[ResourceKind(of: R.self)] ?? []).filter { namespace == nil || $0.namespace == namespace }
            .sorted().compactMap { objects[$0] as? R }
    }

    public func count(_ kind: ResourceKind) -> Int { keysByKind[kind]?.count ?? 0 }
}

/// A control-plane component (scheduler, controller, kubelets): it watches committed events, keeps
/// its own work queues, and does the work that is due when the driver asks. Everything it writes
/// goes through the Store, after a decision event that says why.
public protocol Component: AnyObject {
    /// `scheduler`, `replicaset`, `kubelets` …
    var name: String { get }
    /// Called with each committed event, in order, after the cache applied it.
    func observe(_ event: Event, cache: ObjectCache)
    /// Does work due at `context.now`; returns true if it wrote anything.
    func step(_ context: ComponentContext) async throws -> Bool
    /// When the component next has work even if no event arrives (nil: only on events).
    func nextWakeup() -> Timestamp?
    /// Called once when the control plane starts on a journal, after every existing object was
    /// shown to `observe`: a component whose state goes beyond the objects (a kubelet's
    /// containers, the scheduler's back-offs, the node monitor's clocks) carries on from what the
    /// journal says, instead of starting over. `now` is when this run starts.
    func resume(from view: JournalView, cache: ObjectCache, now: Timestamp) throws
}

extension Component {
    public func resume(from view: JournalView, cache: ObjectCache, now: Timestamp) throws {}
}

/// What a component gets to act with: the time, the cache, and the write path.
public struct ComponentContext {
    public let store: Store
    public let now: Timestamp
    /// When the driver asked the component to step: what its decisions are stamped with. The same
    /// as `now`, unless the component acts at an earlier, planned time (`acting(at:)`).
    public let stepTime: Timestamp
    /// The objects as of `observed`, the revision the component decides on.
    public let cache: ObjectCache
    public var observed: UInt64 { cache.revision }

    public init(store: Store, now: Timestamp, cache: ObjectCache) {
        self.store = store
        self.now = now
        self.stepTime = now
        self.cache = cache
    }

    private init(_ other: ComponentContext, now: Timestamp) {
        store = other.store
        self.now = now
        stepTime = other.stepTime
        cache = other.cache
    }

    /// The same step, acting as of `time` (a simulated node doing what fell due then); its
    /// decisions keep the step's time.
    public func acting(at time: Timestamp) -> ComponentContext { ComponentContext(self, now: time) }

    /// Appends a decision event and returns its revision, to name as the cause of its writes.
    public func decide(_ type: String, by actor: Actor, about object: ObjectRef, trigger: UInt64?, _ data: JSONValue) async throws -> UInt64 {
        let draft = EventDraft(
            time: stepTime, type: type, actor: actor, object: object, observed: observed, trigger: trigger,
            data: data.serialized())
        return try await store.record(draft).revision
    }

    /// Appends a decision with typed data (its event type is the data's).
    public func decide<D: DecisionData>(_ data: D, by actor: Actor, about object: ObjectRef, trigger: UInt64?) async throws -> UInt64 {
        try await decide(D.eventType, by: actor, about: object, trigger: trigger, data.json)
    }

    /// Records a core/v1 Event about `object` (what `kubectl describe` shows). A repeat of the
    /// same reason and message about the same object raises the existing event's count. Like
    /// client-go's event recorder, an Event the API refuses (its namespace is being deleted or is
    /// gone) is dropped, never the caller's failure; a failure of the write path is thrown.
    public func recordEvent(
        about object: some Resource, reason: String, message: String, type eventType: String = "Normal",
        component: String, host: String? = nil, by actor: Actor, cause: UInt64?
    ) async throws {
        do {
            try await writeEvent(about: object, reason: reason, message: message, type: eventType, component: component, host: host, by: actor, cause: cause)
        } catch let e as StatusError where [.forbidden, .notFound, .invalid, .conflict].contains(e.reason) {
            return
        }
    }

    private func writeEvent(
        about object: some Resource, reason: String, message: String, type eventType: String = "Normal",
        component: String, host: String? = nil, by actor: Actor, cause: UInt64?
    ) async throws {
        let origin = Store.Origin(actor, cause: cause)
        let namespace = object.metadata.namespace ?? "default"
        let involved = ObjectReference(
            kind: Swift.type(of: object).kind, namespace: object.metadata.namespace, name: object.metadata.name,
            uid: object.metadata.uid, apiVersion: Swift.type(of: object).apiVersion)
        if var existing = cache.coreEvent(about: involved.uid, reason: reason, message: message) {
            existing.count = (existing.count ?? 1) + 1
            existing.lastTimestamp = now.kubernetesTime
            _ = try await store.update(existing, by: origin)
            return
        }
        var event = CoreEvent(
            metadata: ObjectMeta(namespace: namespace), involvedObject: involved, reason: reason, message: message, type: eventType)
        event.metadata.generateName = "\(object.metadata.name ?? "event")."
        event.source = EventSource(component: component, host: host)
        event.firstTimestamp = now.kubernetesTime
        event.lastTimestamp = now.kubernetesTime
        event.count = 1
        event.reportingComponent = component
        event.reportingInstance = host
        _ = try await store.create(event, by: origin)
    }
}

extension Resource {
    /// The journal's reference to this object (kind, namespace, name, uid).
    public var objectRef: ObjectRef {
        ObjectRef(kind: Self.kind, namespace: Self.namespaced ? (metadata.namespace ?? "default") : "", name: metadata.name ?? "", uid: metadata.uid ?? "")
    }
}

/// Decision event types (the projection ignores them; queries read them).
public enum DecisionType {
    public static let scheduling = "SchedulingDecided"
    public static let controller = "ControllerDecided"
    public static let nodeLifecycle = "NodeLifecycleDecided"
    public static let kubelet = "KubeletDecided"
    public static let fault = "FaultInjected"
}
