import ClusterModel
import ControlPlane
import Journal

/// The shape every controller shares: keys become dirty when an event touches them (remembering
/// the event as the trigger), and each step reconciles the smallest dirty key.
public class Reconciler: Component {
    public let name: String
    let actor: Actor
    var dirty: [ObjectKey: UInt64] = [:]
    /// Keys to reconcile again at a time, with the event that started the wait (the trigger of the
    /// decision the timer leads to, so that it does not depend on when the component next runs).
    var timers: [ObjectKey: (time: Timestamp, trigger: UInt64)] = [:]

    init(name: String) {
        self.name = name
        actor = Actor(kind: "controller", name: name)
    }

    func markDirty(_ key: ObjectKey, _ trigger: UInt64) {
        dirty[key] = max(dirty[key] ?? 0, trigger)
    }

    /// Reconciles `key` again at `time` (for waits such as minReadySeconds), naming `trigger` as
    /// what woke it.
    func requeue(_ key: ObjectKey, at time: Timestamp, trigger: UInt64) {
        if let t = timers[key], t.time <= time { return }
        timers[key] = (time, trigger)
    }

    public func observe(_ event: Event, cache: ObjectCache) {}

    public func nextWakeup() -> Timestamp? { timers.values.map(\.time).min() }

    public func step(_ context: ComponentContext) async throws -> Bool {
        for (key, timer) in timers where timer.time <= context.now {
            timers[key] = nil
            // The wait that ran out is what woke the key: its trigger replaces any other mark. Marks
            // that a reconcile with nothing to do consumed in the recorded run may still stand in a
            // replay, which steps a component only for what it wrote; the timer's trigger is the
            // same in both.
            dirty[key] = timer.trigger
        }
        // Every dirty key, most urgent first; what they write comes back as events before the next step.
        let keys = dirty.keys.map { (urgency($0, context.cache), $0) }.sorted { $0 < $1 }.map(\.1)
        var wrote = false
        for key in keys {
            guard let trigger = dirty.removeValue(forKey: key) else { continue }
            do {
                try Task.checkCancellation()
                if try await reconcile(key, trigger: trigger, context) { wrote = true }
            } catch {
                // Not reconciled (a write failed, or shutdown): the key stays dirty for the next step.
                markDirty(key, trigger)
                throw error
            }
        }
        return wrote
    }

    /// How many times in a row each key's writes were refused (for `refused(…)`'s back-off).
    private var refusals: [ObjectKey: Int] = [:]

    /// Whether `error` is the Store refusing an object this controller made (invalid, forbidden,
    /// its namespace gone …) rather than a failure of the write path (a full disk, a conflict).
    static func isRefusal(_ error: any Error) -> Bool {
        guard let e = error as? StatusError else { return false }
        return [.invalid, .badRequest, .forbidden, .notFound, .tooLarge].contains(e.reason)
    }

    /// Records a refused write as kube-controller-manager does — a Warning Event about `object`
    /// (repeats raise its count) — and reconciles `key` again after a back-off that doubles from
    /// 10 s to 5 min while the refusals go on. The controller carries on with other keys.
    func refused(_ error: any Error, key: ObjectKey, about object: some Resource, reason: String, message: String,
                 _ context: ComponentContext, cause: UInt64?) async throws {
        let count = (refusals[key] ?? 0) + 1
        refusals[key] = count
        try await context.recordEvent(about: object, reason: reason, message: message, type: "Warning",
                                      component: "\(name)-controller", by: actor, cause: cause)
        requeue(key, at: context.now.adding(seconds: min(300, Int64(10) << Int64(min(count - 1, 5)))), trigger: cause ?? context.observed)
    }

    /// Forgets `key`'s refusals after a write of it succeeded.
    func accepted(_ key: ObjectKey) { refusals[key] = nil }

    /// Dirty keys are reconciled most urgent first (then in key order).
    func urgency(_ key: ObjectKey, _ cache: ObjectCache) -> Int { 0 }

    /// Brings `key` to its desired state; returns true if anything was written.
    func reconcile(_ key: ObjectKey, trigger: UInt64, _ context: ComponentContext) async throws -> Bool { false }

    /// Creates `pod` for `owner` (the object `key` names), with kube-controller-manager's
    /// `SuccessfulCreate` Event; if the Store refuses it, a `FailedCreate` Event and a back-off
    /// instead, and false.
    func createPod(_ pod: Pod, for owner: some Resource, key: ObjectKey, component: String, _ origin: Store.Origin,
                   _ context: ComponentContext) async throws -> Bool {
        do {
            let made = try await context.store.create(pod, by: origin)
            accepted(key)
            try await context.recordEvent(about: owner, reason: "SuccessfulCreate", message: "Created pod: \(made.metadata.name ?? "")",
                                          component: component, by: actor, cause: origin.cause)
            return true
        } catch {
            guard Self.isRefusal(error) else { throw error }
            try await refused(error, key: key, about: owner, reason: "FailedCreate", message: "Error creating: \(error)", context, cause: origin.cause)
            return false
        }
    }

    /// Deletes `pod` of `owner`, with the `SuccessfulDelete` Event (nothing if it is already gone).
    func deletePod(_ pod: Pod, of owner: some Resource, component: String, _ origin: Store.Origin, _ context: ComponentContext) async throws {
        try Task.checkCancellation()
        guard (try? await context.store.delete(.pod, namespace: pod.metadata.namespace, name: pod.metadata.name ?? "", by: origin)) != nil else { return }
        try await context.recordEvent(about: owner, reason: "SuccessfulDelete", message: "Deleted pod: \(pod.metadata.name ?? "")",
                                      component: component, by: actor, cause: origin.cause)
    }

    /// A `ControllerDecided` event about `object`: `action`, with the details `fill` sets.
    func decide(_ context: ComponentContext, about object: ObjectRef, trigger: UInt64, _ action: ControllerDecision.Actions,
                _ fill: (inout ControllerDecision) -> Void = { _ in }) async throws -> Store.Origin {
        var d = ControllerDecision(controller: name, action: action)
        fill(&d)
        let rev = try await context.decide(d, by: actor, about: object, trigger: trigger)
        return Store.Origin(actor, cause: rev)
    }
}

/// The owner, by controller reference, of each object of one kind a controller has seen, so that
/// an object's removal (when the cache no longer has it) still brings its owner back.
struct OwnedObjects {
    let ownerKind: String
    private var owners: [ObjectKey: String] = [:]

    init(ownerKind: String) { self.ownerKind = ownerKind }

    /// The key of the owner of the object `event` is about, if it has one of `ownerKind`.
    mutating func owner(of event: Event, in cache: ObjectCache) -> ObjectKey? {
        let key = event.object.key
        if let ref = cache.get(key)?.metadata.controllerReference, ref.kind == ownerKind { owners[key] = ref.name }
        let owner = owners[key].map { ObjectKey(kind: ownerKind, namespace: key.namespace, name: $0) }
        if event.type == WriteType.deleted.rawValue { owners[key] = nil }
        return owner
    }
}

extension Pod {
    var isActive: Bool {
        metadata.deletionTimestamp == nil && !["Succeeded", "Failed"].contains(status?.phase ?? "")
    }

    /// Ready for at least `minReadySeconds` at `now`.
    func isAvailable(minReadySeconds: Int32, now: Timestamp) -> Bool {
        guard let ready = condition("Ready"), ready.status == "True" else { return false }
        guard minReadySeconds > 0, let since = ready.lastTransitionTime.flatMap({ Timestamp(rfc3339: $0) }) else { return true }
        return since.adding(seconds: Int64(minReadySeconds)) <= now
    }
}

extension Resource {
    /// The uid of the owner with `controller: true`, if it is of `kind`.
    func controllerUID(kind: String) -> String? {
        metadata.controllerReference.flatMap { $0.kind == kind ? $0.uid : nil }
    }
}
