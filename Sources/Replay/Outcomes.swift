import ClusterModel
import ControlPlane
import Foundation
import Journal

/// What happened to one pod in a timeline: where it ran, how long it waited, what ended it.
public struct PodOutcome: Sendable, Encodable, Equatable {
    /// The pod across timelines: its controller and its place among that controller's pods
    /// (`ReplicaSet/default/web-7d4b9 #3`), or `Pod/namespace/name` for a pod without one —
    /// generated names differ between two timelines, this does not.
    public var identity: String
    public var name: String
    public var created: Timestamp
    /// The node of its first binding.
    public var node: String?
    public var bound: Timestamp?
    /// The first time it was Ready.
    public var ready: Timestamp?
    public var evicted = false
    public var preempted = false
    /// The highest restart count it reached.
    public var restarts: Int32 = 0
    /// Its phase at the end, or `Deleted`.
    public var phase: String

    /// Seconds from creation to the binding and to the first Ready.
    public var secondsToBind: Double? { bound.map { Double(created.microseconds(until: $0)) / 1e6 } }
    public var secondsToReady: Double? { ready.map { Double(created.microseconds(until: $0)) / 1e6 } }

    enum CodingKeys: String, CodingKey {
        case identity, name, created, node, bound, ready, evicted, preempted, restarts, phase, secondsToBind, secondsToReady
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(identity, forKey: .identity)
        try c.encode(name, forKey: .name)
        try c.encode(created.rfc3339, forKey: .created)
        try c.encodeIfPresent(node, forKey: .node)
        try c.encodeIfPresent(bound?.rfc3339, forKey: .bound)
        try c.encodeIfPresent(ready?.rfc3339, forKey: .ready)
        try c.encode(evicted, forKey: .evicted)
        try c.encode(preempted, forKey: .preempted)
        try c.encode(restarts, forKey: .restarts)
        try c.encode(phase, forKey: .phase)
        try c.encodeIfPresent(secondsToBind, forKey: .secondsToBind)
        try c.encodeIfPresent(secondsToReady, forKey: .secondsToReady)
    }
}

/// The pods of a timeline, each followed from its creation to the end.
public enum Outcomes {
    /// Every pod created in `journal` up to `through` (its head if nil), by identity.
    public static func pods(in journal: Journal, through: UInt64? = nil) throws -> [String: PodOutcome] {
        var byUID: [String: PodOutcome] = [:]
        var ordinals: [String: Int] = [:]
        try journal.read { view in
            let end = min(through ?? .max, try view.head().revision)
            guard end > 0 else { return }
            var r: UInt64 = 1
            while r <= end {
                let batch = try view.events(in: r...min(end, r + 4095))
                r += UInt64(batch.count)
                for e in batch where e.object.kind == Pod.kind {
                    // Only the fields compared are read: decoding every version of every pod into
                    // the typed model would cost most of a re-run's time.
                    guard let type = WriteType(rawValue: e.type), let pod = try? JSONValue.parse(e.data) else { continue }
                    let meta = pod["metadata"], status = pod["status"]
                    let uid = meta?["uid"]?.stringValue ?? e.object.uid
                    if type == .created {
                        let controller = meta?["ownerReferences"]?.arrayValue?.first { $0["controller"] == .bool(true) }
                        let owner = controller.map { "\($0["kind"]?.stringValue ?? "")/\(e.object.namespace)/\($0["name"]?.stringValue ?? "")" }
                        let identity: String
                        if let owner {
                            ordinals[owner, default: 0] += 1
                            identity = "\(owner) #\(ordinals[owner]!)"
                        } else {
                            identity = "Pod/\(e.object.namespace)/\(e.object.name)"
                        }
                        byUID[uid] = PodOutcome(identity: identity, name: e.object.name, created: e.time, phase: status?["phase"]?.stringValue ?? "Pending")
                    }
                    guard var o = byUID[uid] else { continue }
                    if o.node == nil, let node = pod["spec"]?["nodeName"]?.stringValue {
                        o.node = node
                        o.bound = e.time
                    }
                    let ready = status?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }?["status"]?.stringValue == "True"
                    if o.ready == nil, ready { o.ready = e.time }
                    let restarts = (status?["containerStatuses"]?.arrayValue ?? []).compactMap { $0["restartCount"]?.intValue }.max() ?? 0
                    o.restarts = max(o.restarts, Int32(clamping: restarts))
                    if type == .deletionStarted, e.actor.kind == "scheduler" { o.preempted = true }
                    if type == .deletionStarted, e.actor == Actor(kind: "controller", name: "node-lifecycle") { o.evicted = true }
                    o.phase = type == .deleted ? "Deleted" : (status?["phase"]?.stringValue ?? o.phase)
                    byUID[uid] = o
                }
            }
        }
        return Dictionary(byUID.values.map { ($0.identity, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

/// How a re-run's timeline differs from the recorded one.
public struct TimelineComparison: Sendable, Encodable {
    /// The first revision at which the two journals hold different events.
    public struct Divergence: Sendable, Codable, Equatable {
        public var revision: UInt64
        public var recorded: String?
        public var rerun: String?
    }

    /// A pod whose outcome differs, with both sides.
    public struct PodDifference: Sendable, Encodable, Equatable {
        public var identity: String
        public var recorded: PodOutcome?
        public var rerun: PodOutcome?
        /// `placed elsewhere`, `evicted in one only`, `restarts`, `phase at the end`, `only in one`.
        public var what: [String]
    }

    /// A pod that reached a point (its binding, Ready) at another time.
    public struct TimingDifference: Sendable, Codable, Equatable {
        public var identity: String
        public var point: String
        public var recordedSeconds: Double
        public var rerunSeconds: Double
        public var deltaSeconds: Double { rerunSeconds - recordedSeconds }
    }

    /// The first decision that differs between the two timelines in what was decided — its type,
    /// component, object and outcome (where a pod went, what a controller or kubelet did) — apart
    /// from revisions and times, which two timelines of one incident need not share.
    public struct DecisionDivergence: Sendable, Encodable, Equatable {
        /// How many decisions agreed before it.
        public var agreedBefore: Int
        public var recordedRevision: UInt64?
        public var recorded: String?
        public var rerunRevision: UInt64?
        public var rerun: String?
    }

    public var recordedEvents: UInt64
    public var rerunEvents: UInt64
    public var firstDivergence: Divergence?
    public var firstDecisionDivergence: DecisionDivergence?
    /// Decisions compared (the recording's).
    public var decisions: Int
    /// Same events, byte for byte.
    public var identical: Bool { firstDivergence == nil && recordedEvents == rerunEvents }
    public var pods: Int
    public var differences: [PodDifference]
    public var timing: [TimingDifference]
    /// Timing differences up to this long are wall-clock jitter of the recording (a live server
    /// acts milliseconds after a deadline, a simulation and a re-run at it).
    public static let jitterTolerance = 1.0
    /// Whether every pod ran where it ran, ended as it ended and restarted as often.
    public var sameOutcomes: Bool { differences.isEmpty }

    /// Compares the recorded journal (up to `recordedEnd`) with the re-run's.
    public static func compare(recorded: Journal, through recordedEnd: UInt64, rerun: Journal) throws -> TimelineComparison {
        let rerunHead = try rerun.head().revision
        var divergence: Divergence?
        var r: UInt64 = 1
        while divergence == nil, r <= max(recordedEnd, rerunHead) {
            let upper = r + 4095
            let a = r <= recordedEnd ? try recorded.read { try $0.events(in: r...min(recordedEnd, upper)) } : []
            let b = r <= rerunHead ? try rerun.read { try $0.events(in: r...min(rerunHead, upper)) } : []
            for i in 0..<max(a.count, b.count) where i >= a.count || i >= b.count || a[i].draft != b[i].draft {
                divergence = Divergence(revision: r + UInt64(i), recorded: i < a.count ? summary(a[i]) : nil, rerun: i < b.count ? summary(b[i]) : nil)
                break
            }
            r += UInt64(max(a.count, b.count, 1))
        }
        let (mine, theirs) = (try decisions(in: recorded, through: recordedEnd), try decisions(in: rerun, through: rerunHead))
        var decisionDivergence: DecisionDivergence?
        for i in 0..<max(mine.count, theirs.count) where i >= mine.count || i >= theirs.count || mine[i].what != theirs[i].what {
            decisionDivergence = DecisionDivergence(agreedBefore: i, recordedRevision: i < mine.count ? mine[i].revision : nil, recorded: i < mine.count ? mine[i].what : nil,
                                                    rerunRevision: i < theirs.count ? theirs[i].revision : nil, rerun: i < theirs.count ? theirs[i].what : nil)
            break
        }
        let before = try Outcomes.pods(in: recorded, through: recordedEnd), after = try Outcomes.pods(in: rerun)
        var differences: [PodDifference] = [], timing: [TimingDifference] = []
        for identity in Set(before.keys).union(after.keys).sorted() {
            let a = before[identity], b = after[identity]
            var what: [String] = []
            if let a, let b {
                if a.node != b.node { what.append("placed on \(b.node ?? "no node") instead of \(a.node ?? "no node")") }
                if a.evicted != b.evicted { what.append(b.evicted ? "evicted only in the re-run" : "evicted only in the recording") }
                if a.preempted != b.preempted { what.append(b.preempted ? "preempted only in the re-run" : "preempted only in the recording") }
                if a.restarts != b.restarts { what.append("restarted \(b.restarts) time(s) instead of \(a.restarts)") }
                if a.phase != b.phase { what.append("ends \(b.phase) instead of \(a.phase)") }
                for (point, x, y) in [("bound", a.secondsToBind, b.secondsToBind), ("ready", a.secondsToReady, b.secondsToReady)] {
                    if let x, let y, x != y { timing.append(TimingDifference(identity: identity, point: point, recordedSeconds: x, rerunSeconds: y)) }
                    if (x == nil) != (y == nil) { what.append(y == nil ? "never \(point) in the re-run" : "\(point) only in the re-run") }
                }
            } else {
                what.append(a == nil ? "only in the re-run" : "only in the recording")
            }
            if !what.isEmpty { differences.append(PodDifference(identity: identity, recorded: a, rerun: b, what: what)) }
        }
        return TimelineComparison(recordedEvents: recordedEnd, rerunEvents: rerunHead, firstDivergence: divergence,
                                  firstDecisionDivergence: decisionDivergence, decisions: mine.count,
                                  pods: Set(before.keys).union(after.keys).count, differences: differences, timing: timing)
    }

    static func summary(_ e: Event) -> String { "\(e.type) by \(e.actor) about \(e.object) at \(e.time.rfc3339)" }

    /// The journal's decisions in order, each as what it decided (see `DecisionDivergence`).
    static func decisions(in journal: Journal, through end: UInt64) throws -> [(revision: UInt64, what: String)] {
        guard end > 0 else { return [] }
        return try journal.read { view in
            var out: [(UInt64, String)] = []
            var r: UInt64 = 1
            while r <= end {
                let batch = try view.events(in: r...min(end, r + 4095))
                r += UInt64(batch.count)
                for e in batch where e.isDecision { out.append((e.revision, what(e))) }
            }
            return out
        }
    }

    /// A decision's type, component, object and outcome.
    static func what(_ e: Event) -> String {
        let outcome: String
        if let s = SchedulingDecision.from(e) {
            outcome = s.outcome == .bound ? "onto \(s.node ?? "?")" : "unschedulable" + (s.preemption?.node.map { ", nominate \($0)" } ?? "")
        } else if let k = KubeletDecision.from(e) {
            outcome = k.action.rawValue
        } else if let n = NodeLifecycleDecision.from(e) {
            outcome = n.action.rawValue
        } else if let c = ControllerDecision.from(e) {
            outcome = c.action.all.joined(separator: "; ")
        } else {
            outcome = ""
        }
        return "\(e.type) by \(e.actor) about \(e.object): \(outcome)"
    }
}
