import ClusterModel
import Controllers
import ControlPlane
import Foundation
import Journal
import NodeAgent
import Scheduler

/// Runs the control-plane components against a Store: it keeps their object cache current from
/// the journal, shows them every committed event in order, and asks each in a fixed order to do
/// the work that is due, until none has any. The same loop runs in virtual time (a simulation:
/// jump to the next due time; the same scenario and seed write the same journal) and on the wall
/// clock (`kj serve`: wait for the next write or the next due time).
public final class Driver {
    public let store: Store
    public let journal: Journal
    public let cache = ObjectCache()
    public let components: [any Component]
    public let kubelets: KubeletFleet?
    let now: () -> Timestamp
    /// Rounds of steps at one instant before the driver gives up (a component that never settles).
    public var roundLimit = 1_000_000

    /// The standard set: node lifecycle, scheduler, the controllers, then the kubelets.
    public static func standardComponents(seed: UInt64, kubelets: KubeletFleet?) -> [any Component] {
        var c: [any Component] = [
            NodeLifecycleController(), SchedulerComponent(seed: seed), DeploymentController(), ReplicaSetController(),
            EndpointsController(), GarbageCollector(),
        ]
        if let kubelets { c.append(kubelets) }
        return c
    }

    public init(store: Store, components: [any Component], kubelets: KubeletFleet?, now: @escaping () -> Timestamp) throws {
        self.store = store
        journal = store.journal
        self.components = components
        self.kubelets = kubelets
        self.now = now
    }

    /// Loads the cache from the journal's state and shows every existing object to the
    /// components, as if it had just been created.
    public func prime() async throws {
        let state = await store.state
        try journal.read { view in try cache.load(state, from: view) }
        for kind in ResourceKind.allCases {
            for stored in state.list(kind) {
                let e = Event(revision: stored.revision, draft: EventDraft(
                    time: state.time, type: WriteType.created.rawValue, actor: .bootstrap,
                    object: ObjectRef(kind: kind.rawValue, namespace: stored.key.namespace, name: stored.key.name, uid: stored.uid)), hash: .zero)
                for c in components { c.observe(e, cache: cache) }
            }
        }
    }

    /// Brings the cache up to the Store's applied head, showing each event to every component.
    public func catchUp() throws {
        let head = store.signal.head
        guard head > cache.revision else { return }
        let events = try journal.read { try $0.events(in: (cache.revision + 1)...head) }
        for e in events {
            try cache.apply(e, typed: store.recent.take(e.revision))
            for c in components { c.observe(e, cache: cache) }
        }
    }

    /// Lets every component work until none has anything left to do now. Returns the rounds run.
    @discardableResult
    public func settle() async throws -> Int {
        var rounds = 0
        while true {
            try catchUp()
            var acted = false
            for c in components {
                let context = ComponentContext(store: store, now: now(), cache: cache)
                if try await c.step(context) {
                    acted = true
                    try catchUp()
                }
            }
            rounds += 1
            if !acted { return rounds }
            guard rounds < roundLimit else { throw SimulationError("components did not settle after \(roundLimit) rounds at \(now())") }
        }
    }

    /// The earliest time any component has work without a new event.
    public func nextWakeup() -> Timestamp? { components.compactMap { $0.nextWakeup() }.min() }

    /// Runs on the wall clock until cancelled: settle, then wait for a write or the next due time.
    public func runLive() async throws {
        try await prime()
        while !Task.isCancelled {
            do { try await settle() } catch is StatusError { /* a conflicting write; the next round retries */ }
            let seen = cache.revision
            let delay = nextWakeup().map { max(0, $0.microseconds - now().microseconds) }
            let signal = store.signal
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await signal.wait(after: seen) }
                if let delay { group.addTask { try? await Task.sleep(for: .microseconds(delay)) } }
                await group.next()
                group.cancelAll()
            }
        }
    }
}

public struct SimulationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}
