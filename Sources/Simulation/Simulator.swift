import ClusterModel
import Controllers
import ControlPlane
import Foundation
import Journal
import NodeAgent
import Scheduler

/// Runs a scenario in virtual time on a single thread: the same scenario and seed write the same
/// journal, byte for byte, every time.
public final class Simulator {
    public let scenario: Scenario
    public let journal: Journal
    public let store: Store
    public let clock: ManualClock
    public let driver: Driver
    public let kubelets: KubeletFleet

    /// A checked expectation.
    public struct Check: Sendable {
        public var at: Int64
        public var expectation: Expectation
        public var failure: String?
        public var passed: Bool { failure == nil }
    }

    public private(set) var checks: [Check] = []

    /// Sets up a fresh cluster for `scenario` in `journal` (which must be empty).
    public init(scenario: Scenario, journal: Journal, seed: UInt64? = nil, snapshotInterval: UInt64 = 10_000) async throws {
        guard try journal.head().revision == 0 else { throw SimulationError("the journal at \(journal.path) is not empty; simulate into a new one") }
        self.scenario = scenario
        self.journal = journal
        clock = ManualClock(scenario.start)
        let seed = seed ?? scenario.seed
        store = try await Store.open(journal: journal, clock: clock, options: Store.Options(snapshotInterval: snapshotInterval, seed: seed, synchronousAppends: true, admission: scenario.admission))
        kubelets = KubeletFleet(nodes: scenario.nodes, start: scenario.start)
        let clock = self.clock
        driver = try Driver(store: store, components: Driver.standardComponents(seed: seed, kubelets: kubelets, settings: Driver.Settings(nodeMonitorGracePeriod: scenario.nodeMonitorGracePeriod, eventTTL: scenario.eventTTL, schedulerProfiles: scenario.schedulerProfiles)), kubelets: kubelets, now: { clock.now() })
        try await driver.prime()
    }

    /// Runs the whole timeline and the time after it; returns the checks.
    @discardableResult
    public func run() async throws -> [Check] {
        let end = scenario.start.adding(microseconds: scenario.duration)
        var steps = scenario.steps[...]
        while true {
            try await driver.settle()
            let nextStep = steps.first.map { scenario.start.adding(microseconds: $0.at) }
            let wake = driver.nextWakeup()
            if let wake, wake <= clock.now() {
                // A component says it has work now, yet did nothing when asked: a bug, not a reason to spin.
                let names = driver.components.filter { ($0.nextWakeup() ?? .init(microseconds: .max)) <= clock.now() }.map(\.name)
                throw SimulationError("\(names.joined(separator: ", ")) asked to run at \(wake) but did nothing")
            }
            guard let next = [nextStep, wake].compactMap({ $0 }).min(), next <= end else { break }
            if next > clock.now() { clock.set(next) }
            while let step = steps.first, scenario.start.adding(microseconds: step.at) <= clock.now() {
                steps = steps.dropFirst()
                // Checks see everything the components did up to this instant.
                if case .expect = step.action { try await driver.settle() }
                try await perform(step)
            }
        }
        clock.set(max(clock.now(), end))
        await store.flushSnapshots()
        return checks
    }

    private func perform(_ step: Scenario.Step) async throws {
        let origin = Store.Origin(.user(step.user))
        switch step.action {
        case .apply(let text):
            for var object in try Manifest.objects(text) {
                let kind = ResourceKind(of: type(of: object))
                if kind.namespaced, object.metadata.namespace == nil { object.metadata.namespace = "default" }
                if (try? await store.get(kind, namespace: object.metadata.namespace, name: object.metadata.name ?? "")) != nil {
                    _ = try await store.update(object, by: origin)
                } else {
                    _ = try await store.create(object, by: origin)
                }
            }
        case .delete(let kind, let namespace, let name, let grace):
            _ = try await store.delete(kind, namespace: namespace, name: name, gracePeriodSeconds: grace, by: origin)
        case .deleteMatching(let selector, let namespace, let grace):
            let pods = try await store.list(.pod, namespace: namespace ?? "default", labelSelector: selector).items
            guard let first = pods.first(where: { $0.metadata.deletionTimestamp == nil }) else { throw SimulationError("no pod matches \(selector)") }
            _ = try await store.delete(.pod, namespace: namespace, name: first.metadata.name ?? "", gracePeriodSeconds: grace, by: origin)
        case .scale(let kind, let namespace, let name, let replicas):
            _ = try await store.patch(kind, namespace: namespace, name: name, type: .merge,
                                      body: .object(["spec": .object(["replicas": .int(Int64(replicas))])]), by: origin)
        case .setImage(let name, let namespace, let container, let image):
            var d = try await store.get(Deployment.self, namespace: namespace ?? "default", name: name)
            for i in d.spec.template.spec.containers.indices where container == nil || d.spec.template.spec.containers[i].name == container {
                d.spec.template.spec.containers[i].image = image
            }
            _ = try await store.update(d, by: origin)
        case .rollback(let name, let namespace):
            try await rollback(name, namespace: namespace ?? "default", origin)
        case .fault(let f):
            try await inject(f)
        case .expect(let e):
            try driver.catchUp()
            checks.append(Check(at: step.at, expectation: e, failure: try e.failure(cache: driver.cache, journal: journal)))
        }
    }

    /// What `kubectl rollout undo` does: the template of the previous revision becomes current.
    private func rollback(_ name: String, namespace: String, _ origin: Store.Origin) async throws {
        var d = try await store.get(Deployment.self, namespace: namespace, name: name)
        let sets = try await store.list(.replicaSet, namespace: namespace).items.compactMap { $0 as? ReplicaSet }
            .filter { $0.metadata.controllerReference?.uid == d.metadata.uid }
            .sorted { DeploymentController.revisionNumber($0) > DeploymentController.revisionNumber($1) }
        guard sets.count >= 2, var template = sets[1].spec.template else { throw SimulationError("deployment \(name) has no previous revision to roll back to") }
        template.metadata?.labels?[DeploymentController.hashLabel] = nil
        d.spec.template = template
        _ = try await store.update(d, by: origin)
    }

    private func fault(_ data: [String: JSONValue], about object: ObjectRef) -> EventDraft {
        EventDraft(time: clock.now(), type: DecisionType.fault, actor: Actor(kind: "simulation", name: "fault-injector"),
                   object: object, observed: driver.cache.revision, data: JSONValue.object(data).serialized())
    }

    /// Journals the fault; the simulated kubelets act on it when they see the event.
    private func inject(_ f: Fault) async throws {
        var object = f.object()
        if case .kill(let ns, let pod, _, _) = f { object.uid = driver.cache.get(Pod.self, namespace: ns, name: pod)?.metadata.uid ?? "" }
        _ = try await store.record(fault(f.data.objectValue ?? [:], about: object))
    }
}
