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

    /// The row of a pod's stored JSON (members that are absent or `null` read as unset).
    init(_ json: JSONSlice) {
        func present(_ v: JSONSlice?) -> JSONSlice? { v.flatMap { $0.isNull ? nil : $0 } }
        let metadata = json["metadata"], spec = json["spec"], status = present(json["status"])
        name = metadata?["name"]?.stringValue ?? ""
        containerCount = spec?["containers"]?.elements.reduce(0) { n, _ in n + 1 } ?? 0
        containers = (status?["containerStatuses"]?.elements).map { statuses in
            statuses.map { c in
                let state = present(c["state"])
                return Container(
                    ready: c["ready"]?.boolValue ?? false, restartCount: c["restartCount"]?.intValue ?? 0,
                    waitingReason: present(state?["waiting"])?["reason"]?.stringValue,
                    terminated: present(state?["terminated"]).map { t in
                        Terminated(reason: t["reason"]?.stringValue, signal: t["signal"]?.intValue, exitCode: t["exitCode"]?.intValue ?? 0)
                    },
                    running: present(state?["running"]) != nil,
                    lastFinishedAt: present(present(c["lastState"])?["terminated"])?["finishedAt"]?.stringValue)
            }
        } ?? []
        reason = status?["reason"]?.stringValue
        phase = status?["phase"]?.stringValue
        deleting = present(metadata?["deletionTimestamp"]) != nil
        created = metadata?["creationTimestamp"]?.stringValue
        podIP = status?["podIP"]?.stringValue
        nodeName = spec?["nodeName"]?.stringValue
        nominatedNodeName = status?["nominatedNodeName"]?.stringValue
        readinessGates = spec?["readinessGates"]?.elements.reduce(0) { n, _ in n + 1 } ?? 0
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
