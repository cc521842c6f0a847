import Foundation

/// What `kubectl get pods` shows of a pod — the fields of its row, read from a typed `Pod` or in
/// place from the pod's stored JSON. `kj get pods` over thousands of pods reads only these fields
/// from the journal instead of decoding each pod (about 50 µs a pod through `Codable`).
struct PodRow {
    struct Container {
        var ready: Bool
        var restartCount: Int64
        var waitingReason: String?
        var terminated: Terminated?
        var running: Bool
        /// `lastState.terminated.finishedAt`: when it last stopped.
        var lastFinishedAt: String?
    }

    struct Terminated {
        var reason: String?
        var signal: Int64?
        var exitCode: Int64
    }

    var name: String
    var containerCount: Int
    var containers: [Container]
    var reason: String?
    var phase: String?
    var deleting: Bool
    var created: String?
    var podIP: String?
    var nodeName: String?
    var nominatedNodeName: String?
    var readinessGates: Int

    init(_ p: Pod) {
        name = p.metadata.name ?? ""
        containerCount = p.spec.containers.count
        containers = (p.status?.containerStatuses ?? []).map { c in
            Container(ready: c.ready, restartCount: Int64(c.restartCount), waitingReason: c.state?.waiting?.reason,
                      terminated: c.state?.terminated.map { Terminated(reason: $0.reason, signal: $0.signal.map(Int64.init), exitCode: Int64($0.exitCode)) },
                      running: c.state?.running != nil, lastFinishedAt: c.lastState?.terminated?.finishedAt)
        }
        reason = p.status?.reason
        phase = p.status?.phase
        deleting = p.metadata.deletionTimestamp != nil
        created = p.metadata.creationTimestamp
        podIP = p.status?.podIP
        nodeName = p.spec.nodeName
        nominatedNodeName = p.status?.nominatedNodeName
        readinessGates = p.spec.readinessGates?.arrayValue?.count ?? 0
    }

    /// The row of a pod's stored JSON (members that are absent or `null` read as unset). Each
    /// object is passed over once, for all the members it is asked for.
    init(_ json: JSONSlice) {
        func present(_ v: JSONSlice?) -> JSONSlice? { v.flatMap { $0.isNull ? nil : $0 } }
        func count(_ array: JSONSlice?) -> Int { array?.elements.reduce(0) { n, _ in n + 1 } ?? 0 }
        let top = json.members(["metadata", "spec", "status"])
        let metadata = present(top[0])?.members(["name", "creationTimestamp", "deletionTimestamp"]) ?? [nil, nil, nil]
        let spec = present(top[1])?.members(["containers", "nodeName", "readinessGates"]) ?? [nil, nil, nil]
        let status = present(top[2])?.members(["containerStatuses", "reason", "phase", "podIP", "nominatedNodeName"]) ?? [nil, nil, nil, nil, nil]
        name = metadata[0]?.stringValue ?? ""
        created = metadata[1]?.stringValue
        deleting = present(metadata[2]) != nil
        containerCount = count(spec[0])
        nodeName = spec[1]?.stringValue
        readinessGates = count(spec[2])
        containers = (status[0]?.elements).map { statuses in
            statuses.map { c in
                let m = c.members(["ready", "restartCount", "state", "lastState"])
                let state = present(m[2])?.members(["waiting", "terminated", "running"]) ?? [nil, nil, nil]
                return Container(
                    ready: m[0]?.boolValue ?? false, restartCount: m[1]?.intValue ?? 0,
                    waitingReason: present(state[0])?["reason"]?.stringValue,
                    terminated: present(state[1]).map { t in
                        let f = t.members(["reason", "signal", "exitCode"])
                        return Terminated(reason: f[0]?.stringValue, signal: f[1]?.intValue, exitCode: f[2]?.intValue ?? 0)
                    },
                    running: present(state[2]) != nil,
                    lastFinishedAt: present(present(m[3])?["terminated"])?["finishedAt"]?.stringValue)
            }
        } ?? []
        reason = status[1]?.stringValue
        phase = status[2]?.stringValue
        podIP = status[3]?.stringValue
        nominatedNodeName = status[4]?.stringValue
    }

    /// The STATUS column: the pod's reason or phase, overridden by the last container that is
    /// waiting or terminated, and `Terminating` while it is being deleted.
    var status: String {
        var shown = reason ?? phase ?? "Pending"
        for c in containers.reversed() {
            if let w = c.waitingReason, !w.isEmpty {
                shown = w
            } else if let t = c.terminated {
                shown = t.reason ?? (t.signal.map { "Signal:\($0)" } ?? "ExitCode:\(t.exitCode)")
            } else if c.ready, c.running {
                continue
            }
        }
        if deleting, reason != "NodeLost" { shown = "Terminating" }
        return shown
    }

    /// The cells of kubectl's pod columns (`Pod.definition`'s), ages measured at `now`.
    func cells(now: Date) -> [String] {
        let ready = containers.count(where: \.ready)
        let restarts = containers.reduce(0) { $0 + $1.restartCount }
        var restartText = "\(restarts)"
        if restarts > 0, let last = containers.compactMap(\.lastFinishedAt).max() {
            restartText += " (\(ResourceTable.age(last, now: now)) ago)"
        }
        return [name, "\(ready)/\(containerCount)", status, restartText, ResourceTable.age(created, now: now),
                podIP ?? "<none>", nodeName ?? "<none>", nominatedNodeName ?? "<none>", readinessGates == 0 ? "<none>" : "\(readinessGates)"]
    }
}
