import ClusterModel
import ControlPlane
import Foundation
import Journal

/// `POST /kj/v1/faults`: staging an incident on a live server. The body names a fault —
/// `{"fault": "crash", "node": "node-2"}` (also `recover`, `partition`, `heal`, `remove-node`),
/// `{"fault": "kill", "namespace": "default", "pod": "web-1", "exitCode": 137}`, or
/// `{"fault": "add-node", "node": "node-4", "capacity": {"cpu": "8", "memory": "16Gi", "pods": "110"},
/// "labels": {…}, "taints": [{"key": …, "effect": …}]}` — which is journalled as a `FaultInjected`
/// event with the requesting user as its actor; the simulated kubelets act on it when they see it.
/// Writers only (viewers get 403). Answers 201 with the event's revision and data.
struct FaultEndpoints: Sendable {
    let store: Store

    func inject(_ r: APIRequest) async throws(StatusError) -> APIResponse {
        guard let user = r.user else { throw StatusError(.unauthorized, "Unauthorized") }
        if user.readOnly {
            throw StatusError(.forbidden, "faults is forbidden: User \"\(user.name)\" cannot create resource \"faults\" in API group \"kubejournal.io\" at the cluster scope",
                              group: "kubejournal.io", kind: "faults")
        }
        let body = try KubeAPI.body(r)
        let fault = try await Self.fault(from: body, store: store)
        var uid = ""
        if case .kill(let ns, let pod, _, _) = fault {
            uid = (try? await store.get(.pod, namespace: ns, name: pod))?.metadata.uid ?? ""
        }
        let draft = EventDraft(
            time: store.clock.now(), type: DecisionType.fault, actor: .user(user.name), object: fault.object(uid: uid),
            observed: store.signal.head, request: r.headers["x-request-id"] ?? UUID().uuidString.lowercased(), data: fault.data.serialized())
        let event = try await store.record(draft)
        return .json(201, ["kind": "FaultInjected", "revision": .int(Int64(event.revision)), "actor": .string(event.actor.description), "data": fault.data])
    }

    /// The fault a body asks for, checked against the cluster: the node must be one a simulated
    /// kubelet runs (or, to add, not exist yet); the pod must be running somewhere.
    static func fault(from body: JSONValue, store: Store) async throws(StatusError) -> Fault {
        func invalid(_ field: String, _ message: String) -> StatusError {
            StatusError(.invalid, "Fault is invalid: \(field): \(message)", kind: "faults",
                        causes: [StatusError.Cause(reason: "FieldValueInvalid", message: message, field: field)])
        }
        guard let name = body["fault"]?.stringValue else { throw invalid("fault", "Required value: one of crash, recover, partition, heal, kill, add-node, remove-node") }
        let node = body["node"]?.stringValue ?? ""
        switch name {
        case "crash", "recover", "partition", "heal", "remove-node":
            guard !node.isEmpty else { throw invalid("node", "Required value") }
            let found = try await store.get(.node, namespace: nil, name: node)
            guard let n = found as? Node, Self.isSimulated(n) else {
                throw StatusError(.invalid, "Fault is invalid: node: Invalid value: \"\(node)\": no simulated kubelet runs this node (add one with kj node add)", kind: "faults")
            }
            switch name {
            case "crash": return .crash(node: node)
            case "recover": return .recover(node: node)
            case "partition": return .partition(node: node)
            case "heal": return .heal(node: node)
            default: return .removeNode(node: node)
            }
        case "kill":
            guard let podName = body["pod"]?.stringValue, !podName.isEmpty else { throw invalid("pod", "Required value") }
            let namespace = body["namespace"]?.stringValue ?? "default"
            guard let pod = try await store.get(.pod, namespace: namespace, name: podName) as? Pod else { throw invalid("pod", "not a pod") }
            guard let bound = pod.spec.nodeName, !bound.isEmpty else {
                throw StatusError(.conflict, "Operation cannot be fulfilled on pods \"\(podName)\": it runs on no node yet", name: podName, kind: "pods")
            }
            let container = body["container"]?.stringValue
            if let container, !pod.spec.containers.contains(where: { $0.name == container }) {
                throw invalid("container", "Invalid value: \"\(container)\": pod \(podName) has no such container")
            }
            let code = body["exitCode"]?.intValue ?? 137
            guard let exitCode = Int32(exactly: code), (0...255).contains(exitCode) else { throw invalid("exitCode", "Invalid value: \(code): must be between 0 and 255, inclusive") }
            return .kill(namespace: namespace, pod: podName, container: container, exitCode: exitCode)
        case "add-node":
            guard NameFormat.isDNS1123Subdomain(node) else { throw invalid("node", "Invalid value: \"\(node)\": \(NameFormat.dns1123SubdomainMessage)") }
            if (try? await store.get(.node, namespace: nil, name: node)) != nil {
                throw StatusError(.alreadyExists, "nodes \"\(node)\" already exists", name: node, kind: "nodes")
            }
            var capacity: [String: Quantity] = ["cpu": Quantity(4), "memory": Quantity(8 << 30, format: .binarySI), "pods": Quantity(110)]
            for (k, v) in body["capacity"]?.objectValue ?? [:] {
                guard let text = v.stringValue ?? v.intValue.map(String.init), let q = try? Quantity(parsing: text), q.milli >= 0 else {
                    throw invalid("capacity.\(k)", "Invalid value: must be a non-negative quantity")
                }
                capacity[k] = q
            }
            let labels = (body["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            let taints: [Taint]
            do { taints = try body["taints"].map { try ValueDecoder().decode([Taint].self, from: $0) } ?? [] } catch {
                throw invalid("taints", "\(error)")
            }
            return .addNode(Fault.AddedNode(name: node, capacity: capacity, labels: labels, taints: taints))
        default:
            throw invalid("fault", "Unsupported value: \"\(name)\": supported values: \"add-node\", \"crash\", \"heal\", \"kill\", \"partition\", \"recover\", \"remove-node\"")
        }
    }

    /// Whether a simulated kubelet registered the node (what its runtime says).
    static func isSimulated(_ node: Node) -> Bool {
        node.status?.nodeInfo?["containerRuntimeVersion"]?.stringValue?.hasPrefix("simulated://") == true
    }
}
