import ClusterModel
import ControlPlane
import Foundation
import Journal
import Metrics
import Prometheus

/// The server's metrics (swift-metrics, exposed in Prometheus' text format at `/metrics`):
/// requests by verb, resource and code, request latency, the journal's head revision, commit
/// batch sizes, the journal's NOSPACE alarm, open watches and scheduling attempts by outcome. Each server has its own registry.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let watchers: Meter
    let head: Meter
    let commitBatch: Recorder
    let noSpace: Meter

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]
        factory.defaultValueHistogramBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        self.factory = factory
        watchers = Meter(label: "kubejournal_watchers", dimensions: [], factory: factory)
        head = Meter(label: "kubejournal_journal_head_revision", dimensions: [], factory: factory)
        commitBatch = Recorder(label: "kubejournal_journal_commit_batch_events", dimensions: [], aggregate: true, factory: factory)
        noSpace = Meter(label: "kubejournal_journal_nospace_alarm", dimensions: [], factory: factory)
        noSpace.set(0)
    }

    /// Counts one answered request and its latency.
    func request(verb: String, resource: String, code: Int, seconds: Double) {
        let dimensions = [("verb", verb), ("resource", resource), ("code", String(code))]
        Counter(label: "apiserver_request_total", dimensions: dimensions, factory: factory).increment()
        Timer(label: "apiserver_request_duration_seconds", dimensions: [("verb", verb), ("resource", resource)], factory: factory)
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Counts a scheduling attempt by its outcome, named as kube-scheduler names them
    /// (`scheduled`, `unschedulable`).
    func schedulingAttempt(outcome: String) {
        let result = outcome == "bound" ? "scheduled" : outcome
        Counter(label: "scheduler_schedule_attempts_total", dimensions: [("result", result)], factory: factory).increment()
    }

    /// Follows the journal's commits (batch sizes).
    public func observe(_ journal: Journal) {
        let batch = commitBatch
        journal.observeCommits { batch.record($0) }
    }

    /// Follows the Store's NOSPACE alarm: 1 while writes are refused for lack of space.
    public func observe(_ alarm: SpaceAlarm) {
        let gauge = noSpace
        alarm.onChange { gauge.set($0 == nil ? 0 : 1) }
    }

    /// The text a Prometheus scrape reads.
    func exposition(store: Store) async -> String {
        head.set(Double(store.signal.head))
        return registry.emitToString()
    }
}

/// Counts the scheduler's decisions for the metrics as they are committed (a component that only
/// observes).
public final class DecisionMetrics: Component {
    public let name = "metrics"
    let metrics: ServerMetrics

    public init(_ metrics: ServerMetrics) { self.metrics = metrics }

    public func observe(_ event: Event, cache: ObjectCache) {
        guard let decision = SchedulingDecision.from(event) else { return }
        metrics.schedulingAttempt(outcome: decision.outcome.rawValue)
    }

    public func step(_ context: ComponentContext) async throws -> Bool { false }
    public func nextWakeup() -> Timestamp? { nil }
}
