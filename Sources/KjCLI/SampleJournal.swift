import Journal

/// A hand-written sample of the journal's event shapes: one pod's life, from the user's create
/// request to its removal, with the decisions and causes the components will log.
enum SampleJournal {
    static func podLifecycle() -> [EventDraft] {
        let t0 = Timestamp(rfc3339: "2026-01-01T10:00:00Z")!
        func at(_ seconds: Double) -> Timestamp { t0.adding(microseconds: Int64(seconds * 1_000_000)) }
        let alice = Actor(kind: "user", name: "alice")
        let scheduler = Actor(kind: "scheduler", name: "default-scheduler")
        let kubelet = Actor(kind: "kubelet", name: "node-2")
        let pod = ObjectRef(kind: "Pod", namespace: "default", name: "nginx", uid: "5b1e0c2a-8d3f-4e59-9a41-7c2d1f0e6b33")
        func json(_ s: String) -> [UInt8] { Array(s.utf8) }
        func node(_ n: Int) -> EventDraft {
            EventDraft(
                time: at(Double(n)), type: "Created", actor: Actor(kind: "kubelet", name: "node-\(n)"),
                object: ObjectRef(kind: "Node", name: "node-\(n)", uid: "0000000\(n)-aaaa-4bbb-8ccc-00000000000\(n)"),
                data: json(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-\#(n)"},"status":{"allocatable":{"cpu":"2","memory":"4Gi","pods":"110"}}}"#))
        }
        let podSpec = #""spec":{"containers":[{"image":"nginx","name":"nginx"}],"terminationGracePeriodSeconds":30}"#
        return [
            node(1),
            node(2),
            EventDraft(
                time: at(10), type: "Created", actor: alice, object: pod, request: "req-0001",
                data: json(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx","namespace":"default"},\#(podSpec),"status":{"phase":"Pending"}}"#)),
            EventDraft(
                time: at(10.002), type: "SchedulingDecided", actor: scheduler, object: pod, observed: 3, trigger: 3,
                data: json(#"{"feasible":2,"node":"node-2","outcome":"bound","scores":[{"node":"node-2","total":187},{"node":"node-1","total":162}]}"#)),
            EventDraft(
                time: at(10.003), type: "Bound", actor: scheduler, object: pod, cause: 4,
                data: json(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx","namespace":"default"},"spec":{"nodeName":"node-2"}}"#)),
            EventDraft(
                time: at(10.010), type: "KubeletDecided", actor: kubelet, object: pod, observed: 5, trigger: 5,
                data: json(#"{"action":"start","containers":["nginx"]}"#)),
            EventDraft(
                time: at(12.5), type: "StatusUpdated", actor: kubelet, object: pod, cause: 6,
                data: json(#"{"status":{"phase":"Running","podIP":"10.244.2.5"}}"#)),
            EventDraft(
                time: at(300), type: "DeletionStarted", actor: alice, object: pod, request: "req-0002",
                data: json(#"{"metadata":{"deletionGracePeriodSeconds":30,"deletionTimestamp":"2026-01-01T10:05:30Z"}}"#)),
            EventDraft(
                time: at(300.01), type: "KubeletDecided", actor: kubelet, object: pod, observed: 8, trigger: 8,
                data: json(#"{"action":"SIGTERM","gracePeriodSeconds":30}"#)),
            EventDraft(
                time: at(301.2), type: "StatusUpdated", actor: kubelet, object: pod, cause: 9,
                data: json(#"{"status":{"phase":"Succeeded"}}"#)),
            EventDraft(
                time: at(301.3), type: "Deleted", actor: kubelet, object: pod, cause: 9,
                data: json(#"{"gracePeriodSeconds":0}"#)),
        ]
    }
}
