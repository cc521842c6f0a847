import ClusterModel
import ControlPlane
import Journal

/// A check in a scenario's timeline: what must be true at that moment.
public struct Expectation: Sendable {
    public enum Subject: String, Sendable, CaseIterable {
        case pod, pods, node, endpoints, deployment, job, cronjob, decisions
    }

    public var subject: Subject
    /// The object's name (pod, node, endpoints, deployment), the label selector (pods) or the
    /// decision type (decisions).
    public var target: String
    public var conditions: [String: JSONValue]

    static let allowed: [Subject: Set<String>] = [
        .pod: ["namespace", "phase", "ready", "node", "notNode", "absent", "terminating", "restartsAtLeast", "message", "waiting", "scheduled", "image"],
        .pods: ["namespace", "count", "phase", "ready", "node", "notNode", "restartsAtLeast", "scheduled", "image"],
        .node: ["ready", "taint", "noTaint"],
        .endpoints: ["namespace", "ready", "notReady"],
        .deployment: ["namespace", "replicas", "updated", "available", "image", "revision"],
        .job: ["namespace", "condition", "succeeded", "failed", "active", "absent"],
        .cronjob: ["namespace", "active", "jobs"],
        .decisions: ["action", "outcome", "object", "atLeast", "exactly", "message", "node", "controller"],
    ]

    init(_ v: JSONValue, path: String) throws {
        guard case .object(let o) = v else { throw Scenario.ReadError(description: "\(path): an expectation is a mapping") }
        // `node` is also a condition of pod, pods and decisions checks: it names the subject only alone.
        var subjects = Subject.allCases.filter { o[$0.rawValue] != nil }
        if subjects.count > 1 { subjects.removeAll { $0 == .node } }
        guard subjects.count == 1, let s = subjects.first, let t = o[s.rawValue]?.stringValue else {
            throw Scenario.ReadError(description: "\(path): name exactly one of pod, pods, node, endpoints, deployment, job, cronjob, decisions")
        }
        subject = s
        target = t
        conditions = o.filter { $0.key != s.rawValue }
        if let bad = conditions.keys.sorted().first(where: { !Self.allowed[s]!.contains($0) }) {
            throw Scenario.ReadError(description: "\(path): \(s.rawValue) checks do not know \"\(bad)\" (known: \(Self.allowed[s]!.sorted().joined(separator: ", ")))")
        }
    }

    /// One line describing the check.
    public var summary: String {
        let c = conditions.keys.sorted().map { "\($0)=\(conditions[$0]!.stringValue ?? conditions[$0]!.jsonString)" }.joined(separator: " ")
        return "\(subject.rawValue) \(target)\(c.isEmpty ? "" : " " + c)"
    }

    /// Checks the expectation; nil when it holds, else why not.
    func failure(cache: ObjectCache, journal: Journal) throws -> String? {
        let ns = conditions["namespace"]?.stringValue ?? "default"
        func want<T: Equatable>(_ key: String, _ actual: T?, _ read: (JSONValue) -> T?) -> String? {
            guard let expected = conditions[key].flatMap(read) else { return nil }
            return actual == expected ? nil : "\(key) is \(actual.map { "\($0)" } ?? "unset"), expected \(expected)"
        }
        switch subject {
        case .pod:
            let pod = cache.get(Pod.self, namespace: ns, name: target)
            if conditions["absent"] == .bool(true) { return pod == nil ? nil : "pod \(target) still exists" }
            guard let pod else { return "pod \(ns)/\(target) does not exist" }
            return podFailure(pod)
        case .pods:
            let selector = try LabelSelectorExpression(parsing: target)
            let pods = cache.list(Pod.self, namespace: ns).filter { selector.matches($0.metadata.labels ?? [:]) && $0.metadata.deletionTimestamp == nil }
            if let count = conditions["count"]?.intValue, pods.count != count {
                return "\(pods.count) pod(s) match \(target), expected \(count): \(pods.map { $0.metadata.name ?? "" }.joined(separator: ", "))"
            }
            for p in pods { if let f = podFailure(p) { return "pod \(p.metadata.name ?? ""): \(f)" } }
            return nil
        case .node:
            guard let node = cache.get(Node.self, name: target) else { return "node \(target) does not exist" }
            if let f = want("ready", node.condition("Ready")?.status, { $0.stringValue }) { return f }
            let taints = (node.spec?.taints ?? []).map { "\($0.key):\($0.effect)" }
            if let t = conditions["taint"]?.stringValue, !taints.contains(where: { $0 == t || $0.hasPrefix(t + ":") }) {
                return "node \(target) lacks taint \(t) (has \(taints))"
            }
            if let t = conditions["noTaint"]?.stringValue, taints.contains(where: { $0 == t || $0.hasPrefix(t + ":") }) {
                return "node \(target) has taint \(t)"
            }
            return nil
        case .endpoints:
            guard let e = cache.get(Endpoints.self, namespace: ns, name: target) else { return "endpoints \(ns)/\(target) do not exist" }
            let ready = (e.subsets ?? []).reduce(0) { $0 + ($1.addresses?.count ?? 0) }
            let notReady = (e.subsets ?? []).reduce(0) { $0 + ($1.notReadyAddresses?.count ?? 0) }
            return want("ready", Int64(ready), \.intValue) ?? want("notReady", Int64(notReady), \.intValue)
        case .deployment:
            guard let d = cache.get(Deployment.self, namespace: ns, name: target) else { return "deployment \(ns)/\(target) does not exist" }
            return want("replicas", d.status?.replicas.map(Int64.init), \.intValue)
                ?? want("updated", d.status?.updatedReplicas.map(Int64.init), \.intValue)
                ?? want("available", d.status?.availableReplicas.map(Int64.init), \.intValue)
                ?? want("image", d.spec.template.spec.containers.first?.image, \.stringValue)
                ?? want("revision", d.metadata.annotations?[Deployment.revisionAnnotation], { $0.stringValue ?? $0.intValue.map(String.init) })
        case .job:
            let job = cache.get(Job.self, namespace: ns, name: target)
            if conditions["absent"] == .bool(true) { return job == nil ? nil : "job \(target) still exists" }
            guard let job else { return "job \(ns)/\(target) does not exist" }
            let conditionsTrue = (job.status?.conditions ?? []).filter { $0.status == "True" }.map(\.type)
            if let c = conditions["condition"]?.stringValue, !conditionsTrue.contains(c) {
                return "job \(target) has conditions \(conditionsTrue), expected \(c)"
            }
            return want("succeeded", Int64(job.status?.succeeded ?? 0), \.intValue)
                ?? want("failed", Int64(job.status?.failed ?? 0), \.intValue)
                ?? want("active", Int64(job.status?.active ?? 0), \.intValue)
        case .cronjob:
            guard let cj = cache.get(CronJob.self, namespace: ns, name: target), let uid = cj.metadata.uid else { return "cronjob \(ns)/\(target) does not exist" }
            let jobs = cache.list(Job.self, namespace: ns).filter { $0.metadata.controllerReference?.uid == uid }.count
            return want("active", Int64(cj.status?.active?.count ?? 0), \.intValue) ?? want("jobs", Int64(jobs), \.intValue)
        case .decisions:
            var count = 0
            var messages: [String] = []
            try journal.read { view in
                try view.forEach(in: 1...UInt64.max) { e in
                    guard e.type == target else { return true }
                    if let o = conditions["object"]?.stringValue, !e.object.name.hasPrefix(o) { return true }
                    let data = try? JSONValue.parse(e.data)
                    for key in ["action", "outcome", "node", "controller"] {
                        if let v = conditions[key]?.stringValue, data?[key]?.stringValue != v { return true }
                    }
                    if let m = conditions["message"]?.stringValue {
                        let text = data?["message"]?.stringValue ?? ""
                        messages.append(text)
                        if !text.contains(m) { return true }
                    }
                    count += 1
                    return true
                }
            }
            if let n = conditions["exactly"]?.intValue, count != n { return "\(count) matching \(target) event(s), expected exactly \(n)" }
            let atLeast = conditions["atLeast"]?.intValue ?? (conditions["exactly"] == nil ? 1 : 0)
            if count < atLeast {
                let seen = messages.isEmpty ? "" : "; messages seen: \(Array(Set(messages)).sorted().prefix(3))"
                return "\(count) matching \(target) event(s), expected at least \(atLeast)\(seen)"
            }
            return nil
        }
    }

    private func podFailure(_ pod: Pod) -> String? {
        if let f = stringCheck("phase", pod.status?.phase) { return f }
        if let r = conditions["ready"], case .bool(let want) = r, pod.isReady != want { return "ready is \(pod.isReady), expected \(want)" }
        if let f = stringCheck("node", pod.spec.nodeName) { return f }
        if let n = conditions["notNode"]?.stringValue, pod.spec.nodeName == n { return "runs on \(n)" }
        if let t = conditions["terminating"], case .bool(let want) = t, (pod.metadata.deletionTimestamp != nil) != want {
            return want ? "is not terminating" : "is terminating"
        }
        if let s = conditions["scheduled"], case .bool(let want) = s, (pod.spec.nodeName != nil) != want {
            return want ? "is not scheduled" : "is scheduled on \(pod.spec.nodeName!)"
        }
        if let min = conditions["restartsAtLeast"]?.intValue {
            let restarts = pod.status?.containerStatuses?.reduce(0) { $0 + Int64($1.restartCount) } ?? 0
            if restarts < min { return "restarted \(restarts) time(s), expected at least \(min)" }
        }
        if let m = conditions["message"]?.stringValue {
            let text = pod.condition("PodScheduled")?.message ?? ""
            if !text.contains(m) { return "PodScheduled message is \"\(text)\", expected it to contain \"\(m)\"" }
        }
        if let w = conditions["waiting"]?.stringValue {
            let reasons = pod.status?.containerStatuses?.compactMap { $0.state?.waiting?.reason } ?? []
            if !reasons.contains(w) { return "containers waiting for \(reasons), expected \(w)" }
        }
        if let image = conditions["image"]?.stringValue, pod.spec.containers.first?.image != image {
            return "image is \(pod.spec.containers.first?.image ?? ""), expected \(image)"
        }
        return nil
    }

    private func stringCheck(_ key: String, _ actual: String?) -> String? {
        guard let want = conditions[key]?.stringValue, actual != want else { return nil }
        return "\(key) is \(actual ?? "unset"), expected \(want)"
    }
}
