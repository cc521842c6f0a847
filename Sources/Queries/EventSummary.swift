import ClusterModel
import ControlPlane
import Journal
import Scheduler

/// One line saying what an event did, in the words `kubectl describe` and the seed notes use.
public enum EventSummary {
    /// `data` is the event's payload, parsed.
    public static func line(for e: Event, data: JSONValue) -> String {
        let kind = e.object.kind, name = e.object.name
        switch e.type {
        case DecisionType.scheduling: return scheduling(data)
        case DecisionType.kubelet: return kubelet(e, data)
        case DecisionType.controller, DecisionType.nodeLifecycle: return controller(e, data)
        case DecisionType.fault:
            if let node = data["addNode"]?.stringValue { return "node \(node) added to the cluster" }  // journals before the fault vocabulary
            switch Fault(e) {
            case .crash(let node): return "node \(node) crashed (no heartbeats, its containers gone)"
            case .recover(let node): return "node \(node) recovered"
            case .partition(let node): return "node \(node) cut off from the API server (its containers run on)"
            case .heal(let node): return "node \(node) reaches the API server again"
            case .kill(let ns, let pod, let container, let code):
                return "container \(container.map { $0 + " " } ?? "")of pod \(ns)/\(pod) killed (exit code \(code))"
            case .addNode(let added):
                let capacity = added.capacity.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                return "node \(added.name) added to the cluster (\(capacity))"
            case .removeNode(let node): return "node \(node)'s kubelet removed"
            case nil: return "fault injected: \(data["fault"]?.stringValue ?? "?") \(kind.lowercased())/\(name)"
            }
        case "ClusterInitialized":
            let imported = data["importedFrom"]?.stringValue.map { ", made from \(JournalSource.record($0))" } ?? ""
            return "cluster initialised (seed \(data["seed"].flatMap(FieldDiff.compact) ?? "?")\(imported))"
        case RequestEventType.refused:
            let code = data["code"].flatMap(FieldDiff.compact) ?? "?"
            let reason = data["reason"]?.stringValue.map { " " + $0 } ?? ""
            let message = data["message"]?.stringValue.map { ": " + $0 } ?? ""
            return "\(data["verb"]?.stringValue ?? "request") \(data["resource"]?.stringValue ?? data["requestURI"]?.stringValue ?? "") refused (\(code)\(reason))\(message)"
        case RecordEventType.listed:
            let plural = ResourceKind(rawValue: kind)?.plural ?? kind.lowercased()
            let why = data["reason"]?.stringValue == "expired" ? "again: the watch expired (410 Gone)" : "to start recording"
            let counts = [data["changed"]?.intValue.map { "\($0) new or changed" }, data["deletedUnseen"]?.intValue.map { "\($0) deleted unseen" }].compactMap { $0 }
            return "\(plural) listed \(why) at resourceVersion \(data["resourceVersion"]?.stringValue ?? "?"): \(data["items"].flatMap(FieldDiff.compact) ?? "?") object(s)"
                + (counts.isEmpty ? "" : " (\(counts.joined(separator: ", ")))")
        case SchedulerConfigurations.configured:
            return "scheduler profile \(e.object.name) configured (\(data["digest"]?.stringValue ?? ""))"
        case ClusterEventType.controlPlaneStarted:
            let started = ControlPlaneStarted.from(e)
            let previous = switch started?.previousRun {
            case .clean?: "after a clean stop"
            case .unclean?: "after the previous run was killed or crashed"
            default: "for the first time"
            }
            let gap = started?.sinceLastEventSeconds.map { ", \($0)s after the last event" } ?? ""
            return "control plane started \(previous)\(gap)"
        default: break
        }
        if kind == CoreEvent.kind, e.type == "Created" || e.type == "Updated" {
            let count = data["count"]?.intValue ?? 1
            let involved = data["involvedObject"]?["name"]?.stringValue ?? ""
            return "Event \(data["type"]?.stringValue ?? "Normal") \(data["reason"]?.stringValue ?? "") on \(involved): \(data["message"]?.stringValue ?? "")"
                + (count > 1 ? " (×\(count))" : "")
        }
        let what = "\(kind.lowercased()) \(name)"
        switch e.type {
        case "Created": return "\(what) created"
        case "Updated": return "\(what) updated"
        case "StatusUpdated":
            if kind == Pod.kind { return "pod status: " + podStatus(data) }
            if kind == PodDisruptionBudget.kind, let allowed = data["status"]?["disruptionsAllowed"]?.intValue {
                // The Eviction API charges the budget (its disruptedPods); the disruption controller recounts.
                let disrupted = (data["status"]?["disruptedPods"]?.objectValue ?? [:]).keys.sorted()
                return "\(what): \(allowed) disruption(s) allowed"
                    + (disrupted.isEmpty ? "" : ", evicting \(disrupted.joined(separator: ", "))")
            }
            return "\(what) status updated"
        case "Bound": return "\(what) bound to \(data["spec"]?["nodeName"]?.stringValue ?? "?")"
        case "DeletionStarted":
            let grace = data["metadata"]?["deletionGracePeriodSeconds"]?.intValue
            return "\(what) deletion requested" + (grace.map { " (grace period \($0)s): Terminating" } ?? "")
        case "Deleted": return "\(what) removed"
        default: return "\(e.type) \(what)"
        }
    }

    static func scheduling(_ data: JSONValue) -> String {
        guard let d = try? ValueDecoder(strict: false).decode(SchedulingDecision.self, from: data) else { return "scheduling decision" }
        if d.outcome == .bound {
            let ties = d.tieBreak?.count ?? 1
            return "schedule onto \(d.node ?? "?"): \(d.feasible)/\(d.nodes) nodes feasible" + (ties > 1 ? ", \(ties) tied" : "")
        }
        if let p = d.preemption, let node = p.node {
            return "unschedulable; preempt \(p.victims.map(\.pod).joined(separator: ", ")) and nominate \(node)"
        }
        return "unschedulable: \(d.message ?? "")"
    }

    static func kubelet(_ e: Event, _ d: JSONValue) -> String {
        guard let k = try? ValueDecoder(strict: false).decode(KubeletDecision.self, from: d) else { return "kubelet decision" }
        let node = k.node ?? e.object.name
        switch k.action {
        case .register: return "register node \(node)"
        case .start:
            let containers = (k.containers ?? []).joined(separator: ", ")
            return "start \(containers) on \(node)" + (k.imagePresent == false ? " (pull the image first)" : " (image present)")
        case .backoff:
            return "container exited with code \(k.exitCode ?? 0): CrashLoopBackOff, restart in \(k.backoffSeconds ?? 0)s"
        case .proceed: return "\(k.waitedFor ?? "what the pod waited for") is there: go on starting the pod"
        case .restart: return "restart the container"
        case .completed: return "container completed"
        case .terminate:
            return "terminate: grace period \(k.gracePeriodSeconds ?? 0)s" + ((k.preStopSeconds ?? 0) > 0 ? ", preStop first" : ", SIGTERM now")
        case .preStop: return "run the preStop hook (\(seconds(k.seconds.map(JSONValue.double))))"
        case .sigterm: return "send SIGTERM" + (k.ignored == true ? " (the container ignores it)" : "")
        case .sigkill: return "send SIGKILL: grace period over after \(seconds(k.afterSeconds.map(JSONValue.double)))"
        case .remove: return "containers stopped (exit code \(k.exitCode ?? 0)): remove the pod"
        default: return "kubelet: \(k.action)"
        }
    }

    /// `10s`, `10.3s`: a recorded number of seconds as written in explanations (whole seconds when
    /// whole, else tenths — live runs measure fractions of a second).
    static func seconds(_ value: JSONValue?) -> String {
        let s = value?.doubleValue ?? 0
        guard s.isFinite, abs(s) < 1e15 else { return "\(s)s" }  // an imported event may say anything
        let tenths = Int64((s * 10).rounded())
        return tenths % 10 == 0 ? "\(tenths / 10)s" : "\(tenths / 10).\(abs(tenths % 10))s"
    }

    static func controller(_ e: Event, _ d: JSONValue) -> String {
        let decoder = ValueDecoder(strict: false)
        if e.type == DecisionType.nodeLifecycle, let n = try? decoder.decode(NodeLifecycleDecision.self, from: d) {
            return "node-lifecycle: \(n.action)" + (n.reason.map { " (\($0))" } ?? "")
        }
        guard let c = try? decoder.decode(ControllerDecision.self, from: d) else { return "\(e.actor.name): \(d["action"]?.stringValue ?? "?")" }
        var line = "\(c.controller): \(c.action.all.joined(separator: "; "))"
        if let count = c.count { line += " \(count)" }
        if let pods = c.pods { line += " " + pods.joined(separator: ", ") }
        if c.controller == "endpoints" {
            let added = c.added ?? [], removed = c.removed ?? []
            if !added.isEmpty { line += ", add \(added.joined(separator: ", "))" }
            if !removed.isEmpty { line += ", remove \(removed.joined(separator: ", "))" }
        }
        if let reason = c.reason { line += " (\(reason))" }
        return line
    }

    /// `Running, Ready` / `Pending: ContainerCreating` / `Failed`.
    static func podStatus(_ pod: JSONValue) -> String {
        let status = pod["status"]
        var parts = [status?["phase"]?.stringValue ?? "Pending"]
        for c in status?["containerStatuses"]?.arrayValue ?? [] {
            if let w = c["state"]?["waiting"]?["reason"]?.stringValue { parts.append("\(c["name"]?.stringValue ?? ""): \(w)") }
            if let t = c["state"]?["terminated"] {
                parts.append("\(c["name"]?.stringValue ?? ""): \(t["reason"]?.stringValue ?? "Terminated") (exit \(t["exitCode"]?.intValue ?? 0))")
            }
        }
        if let ready = status?["conditions"]?.arrayValue?.first(where: { $0["type"]?.stringValue == "Ready" }) {
            parts.append(ready["status"]?.stringValue == "True" ? "Ready" : "not Ready")
        }
        if let scheduled = status?["conditions"]?.arrayValue?.first(where: { $0["type"]?.stringValue == "PodScheduled" }),
           scheduled["status"]?.stringValue == "False" {
            parts.append("Unschedulable")
        }
        return parts.joined(separator: ", ")
    }
}

/// One event as `kj events` shows it (and `-o json` prints it).
public struct EventRecord: Codable, Sendable, Equatable {
    public var revision: UInt64
    public var time: String
    public var type: String
    public var actor: String
    public var object: String
    public var summary: String
    public var cause: UInt64?
    public var trigger: UInt64?
    public var observed: UInt64?
    public var request: String?

    public init(_ e: Event) {
        revision = e.revision
        time = e.time.rfc3339
        type = e.type
        actor = e.actor.description
        object = e.object.key.description
        summary = EventSummary.line(for: e, data: (try? e.shownData()) ?? .null)
        cause = e.cause
        trigger = e.trigger
        observed = e.observed
        request = e.request
    }
}
