import ClusterModel
import Controllers
import ControlPlane
import Foundation
import Journal
import Logging
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
    /// Where the live loop reports failed steps.
    public var logger = Logger(label: "kubejournal.driver")

    /// The components' settings that kube-controller-manager and kube-apiserver take as flags.
    public struct Settings: Sendable {
        /// `--node-monitor-grace-period`, in microseconds.
        public var nodeMonitorGracePeriod: Int64
        /// `--event-ttl`, in microseconds.
        public var eventTTL: Int64
        /// The scheduler's profiles (`--scheduler-config`, a scenario's `scheduler:`).
        public var schedulerProfiles: [SchedulerProfile]

        public init(nodeMonitorGracePeriod: Int64 = NodeLifecycleController.defaultMonitorGracePeriod, eventTTL: Int64 = EventTTLController.defaultTTL,
                    schedulerProfiles: [SchedulerProfile] = [.kubeDefault]) {
            self.nodeMonitorGracePeriod = nodeMonitorGracePeriod
            self.eventTTL = eventTTL
            self.schedulerProfiles = schedulerProfiles
        }
    }

    /// The standard set: node lifecycle, scheduler, the controllers, Event expiry, then the kubelets.
    public static func standardComponents(seed: UInt64, kubelets: KubeletFleet?, settings: Settings = Settings()) -> [any Component] {
        var c: [any Component] = [
            NodeLifecycleController(monitorGracePeriod: settings.nodeMonitorGracePeriod), SchedulerComponent(seed: seed, profiles: settings.schedulerProfiles), DeploymentController(),
            ReplicaSetController(), EndpointsController(), EndpointSliceController(), GarbageCollector(), NamespaceController(), ServiceAccountController(),
            DisruptionController(), JobController(), CronJobController(), DaemonSetController(), StatefulSetController(),
            VolumeBinderController(), ResourceQuotaController(),
            EventTTLController(ttl: settings.eventTTL),
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

    /// Loads the cache from the journal's state, shows every existing object to the components as
    /// if it had just been created, then lets each resume from the journal (`Component.resume`) as
    /// of `start` (default: now) — the time the journal gives the run's start, so that what the
    /// components resume with can be derived from the journal again.
    public func prime(startingAt start: Timestamp? = nil) async throws {
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
        let start = start ?? self.now()
        try journal.read { view in
            for c in components { try c.resume(from: view, cache: cache, now: start) }
        }
    }

    /// Brings the cache up to the Store's applied head (or to `revision`, if earlier), showing each
    /// event to every component.
    public func catchUp(through revision: UInt64? = nil) throws {
        let head = min(store.signal.head, revision ?? .max)
        guard head > cache.revision else { return }
        let events = try journal.read { try $0.events(in: (cache.revision + 1)...head) }
        for e in events {
            try cache.apply(e, typed: store.recent.take(e.revision))
            for c in components { c.observe(e, cache: cache) }
        }
    }

    /// Lets every component work until none has anything left to do now. Returns the rounds run.
    ///
    /// A component's error ends the settling and is thrown (a simulation must not go on past a
    /// failure), unless `onFailure` is given: then the error is handed to it and the other
    /// components go on (a live server keeps running). Cancellation is checked between steps.
    @discardableResult
    public func settle(onFailure: ((any Component, any Error) -> Void)? = nil) async throws -> Int {
        var rounds = 0
        while true {
            try Task.checkCancellation()
            try catchUp()
            var acted = false
            for c in components {
                try Task.checkCancellation()
                let context = ComponentContext(store: store, now: now(), cache: cache)
                do {
                    if try await c.step(context) { acted = true }
                } catch let error where !(error is CancellationError) && onFailure != nil {
                    onFailure?(c, error)
                }
                try catchUp()
            }
            rounds += 1
            if !acted { return rounds }
            guard rounds < roundLimit else { throw SimulationError("components did not settle after \(roundLimit) rounds at \(now())") }
        }
    }

    /// The earliest time any component has work without a new event.
    public func nextWakeup() -> Timestamp? { components.compactMap { $0.nextWakeup() }.min() }

    /// The longest the live loop sleeps without a write (it also wakes at every write).
    static let longestSleep: Int64 = 60_000_000
    /// After a round in which a component failed, the live loop waits this long at first before
    /// trying again, doubling up to `longestRetryWait`.
    static let firstRetryWait: Int64 = 100_000, longestRetryWait: Int64 = 5_000_000

    /// Runs on the wall clock until cancelled, from `start` (`prime`): settle, then wait for a write
    /// or the next due time.
    ///
    /// Never ends for a component's error: a failed step (a conflicting write, a full disk, an
    /// object a component cannot handle) is logged and retried after a wait that
    /// grows while failures repeat. Returns promptly once cancelled, between two steps.
    public func runLive(startingAt start: Timestamp? = nil) async throws {
        try await prime(startingAt: start)
        var retryWait: Int64 = 0
        while !Task.isCancelled {
            var failed = false
            do {
                try await settle { component, error in
                    failed = true
                    self.report(component.name, error)
                }
            } catch is CancellationError {
                return
            } catch {
                failed = true
                report("driver", error)
            }
            retryWait = failed ? min(max(retryWait * 2, Self.firstRetryWait), Self.longestRetryWait) : 0
            let seen = cache.revision
            let current = now()
            let due = nextWakeup().map { max(0, current.microseconds(until: $0)) } ?? Self.longestSleep
            let delay = min(max(due, retryWait), Self.longestSleep)
            let signal = store.signal
            // After a failure, wait out the retry delay even if writes arrive meanwhile.
            let wakeOnWrite = retryWait == 0
            await withTaskGroup(of: Void.self) { group in
                if wakeOnWrite { group.addTask { await signal.wait(after: seen) } }
                group.addTask { try? await Task.sleep(for: .microseconds(delay)) }
                await group.next()
                group.cancelAll()
            }
        }
    }
}

extension Driver {
    /// Logs a failed step: conflicts (another writer was first) at debug, anything else as a warning.
    func report(_ component: String, _ error: any Error) {
        let expected = (error as? StatusError).map { [.conflict, .notFound, .alreadyExists].contains($0.reason) } ?? false
        logger.log(level: expected ? .debug : .warning, "a component step failed; it will be retried", metadata: [
            "component": .string(component), "error": .string("\(error)"),
        ])
    }
}

public struct SimulationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}


extension Driver.Settings {
    /// Records the settings and nodes in `ControlPlaneStarted`, so that a replay runs the same
    /// components: each node's hardware, the scheduler's profiles (name and digest), the node
    /// monitor grace period and the event TTL.
    public func record(in started: inout ControlPlaneStarted, nodes: [SimulatedNode]) {
        started.nodeSpecs = nodes.map(\.added.json)
        started.schedulerProfiles = schedulerProfiles.map { .init(name: $0.schedulerName, digest: $0.digest) }
        started.nodeMonitorGracePeriodMicroseconds = nodeMonitorGracePeriod
        started.eventTTLMicroseconds = eventTTL
    }
}
