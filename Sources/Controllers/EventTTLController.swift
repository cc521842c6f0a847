import ClusterModel
import ControlPlane
import HeapModule
import Journal

/// kube-apiserver's `--event-ttl` (default 1 h): a core Event not written for that long goes away.
/// kube-apiserver lets etcd expire it silently; here each expiry is a journalled deletion by
/// `controller/event-ttl`, caused by a decision that lists what expired, so the projection and its
/// snapshots stop carrying every Event for ever while the journal keeps their history
/// (`kj events --at`, `kj get events --at` before the expiry still show them).
public final class EventTTLController: Component {
    public let name = "event-ttl"
    static let actor = Actor(kind: "controller", name: "event-ttl")
    /// kube-apiserver's default `--event-ttl`.
    public static let defaultTTL: Int64 = 3_600_000_000

    /// In microseconds.
    let ttl: Int64
    private struct Expiry: Comparable {
        var at: Timestamp
        var key: ObjectKey
        var revision: UInt64
        static func < (a: Expiry, b: Expiry) -> Bool { (a.at, a.revision) < (b.at, b.revision) }
    }
    private var expiries = Heap<Expiry>()
    /// Each Event's last write: an expiry planned for an older one is stale.
    private var lastWrite: [ObjectKey: UInt64] = [:]

    /// `ttl` in microseconds.
    public init(ttl: Int64 = EventTTLController.defaultTTL) { self.ttl = ttl }

    public func observe(_ event: Event, cache: ObjectCache) {
        guard event.object.kind == CoreEvent.kind, let type = WriteType(rawValue: event.type) else { return }
        let key = event.object.key
        if type == .deleted {
            lastWrite[key] = nil
            return
        }
        lastWrite[key] = event.revision
        expiries.insert(Expiry(at: event.time.adding(microseconds: ttl), key: key, revision: event.revision))
    }

    public func nextWakeup() -> Timestamp? {
        while let top = expiries.min, lastWrite[top.key] != top.revision { _ = expiries.popMin() }
        return expiries.min?.at
    }

    /// At most this many Events expire in one step (one decision).
    static let batch = 500

    public func step(_ context: ComponentContext) async throws -> Bool {
        var due: [Expiry] = []
        while due.count < Self.batch, let top = expiries.min, top.at <= context.now {
            _ = expiries.popMin()
            if lastWrite[top.key] == top.revision { due.append(top) }
        }
        guard let first = due.first else { return false }
        do {
            var decision = ControllerDecision(controller: name, action: .one("expire"))
            decision.count = Int64(due.count)
            decision.ttlSeconds = ttl / 1_000_000
            decision.reason = "not written for \(ttl / 1_000_000)s (kube-apiserver's --event-ttl)"
            decision.events = due.prefix(20).map { "\($0.key.namespace)/\($0.key.name)" }
            let rev = try await context.decide(decision, by: Self.actor, about: ObjectRef(kind: CoreEvent.kind, namespace: first.key.namespace, name: first.key.name),
                                               trigger: due.map(\.revision).max())
            for e in due {
                try Task.checkCancellation()
                _ = try? await context.store.delete(.event, namespace: e.key.namespace, name: e.key.name, by: Store.Origin(Self.actor, cause: rev))
            }
        } catch {
            for e in due { expiries.insert(e) }  // due again, for the next step
            throw error
        }
        return true
    }
}
