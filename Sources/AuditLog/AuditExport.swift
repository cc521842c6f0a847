import ClusterModel
import ControlPlane
import Journal

/// A journal's writes as kube-apiserver's audit log would have recorded them: one `audit.k8s.io/v1`
/// Event per write, at level `RequestResponse` and stage `ResponseComplete`, so that tools which
/// read audit logs (and `kj import audit`) read KubeJournal's recordings.
///
/// The request is the one that makes the write: `create`, `update` (`…/status` for a status
/// write), `create` of `pods/binding`, `delete`; its `responseObject` is the object after the
/// write, with the write's revision as its resourceVersion. The user is the actor's Kubernetes
/// username (the scheduler's, a controller's service account, a node's kubelet). The `auditID` is
/// derived from the journal's hash of the event, so the same journal always exports the same log.
/// Decisions, faults and other facts of the journal are not API requests and are left out.
public enum AuditExport {
    /// The audit event for `e`, or nil when `e` is not a write.
    public static func event(for e: Event) -> JSONValue? {
        guard let type = WriteType(rawValue: e.type), var object = try? JSONValue.parse(e.data) else { return nil }
        object = object.setting(["metadata", "resourceVersion"], to: .string(String(e.revision)))
        let kind = ResourceKind(rawValue: e.object.kind)
        let apiVersion = kind?.apiVersion ?? object["apiVersion"]?.stringValue ?? "v1"
        let parts = apiVersion.split(separator: "/").map(String.init)
        let group = parts.count == 2 ? parts[0] : "", version = parts.last ?? "v1"
        let resource = kind?.plural ?? e.object.kind.lowercased() + "s"
        let (verb, subresource): (String, String?) = switch type {
        case .created: ("create", nil)
        case .updated: ("update", nil)
        case .statusUpdated: ("update", "status")
        case .bound: ("create", "binding")
        case .deletionStarted, .deleted: ("delete", nil)
        }
        var request: JSONValue? = object
        if type == .bound {
            request = .object(["kind": "Binding", "apiVersion": "v1", "metadata": .object(["name": .string(e.object.name)]),
                               "target": .object(["kind": "Node", "name": object["spec"]?["nodeName"] ?? .null])])
        } else if verb == "delete" {
            request = nil
        }
        let base = group.isEmpty ? "/api/v1" : "/apis/\(group)/\(version)"
        var path = base + (e.object.namespace.isEmpty ? "" : "/namespaces/\(e.object.namespace)") + "/\(resource)"
        if verb != "create" || subresource != nil { path += "/\(e.object.name)" }
        if let subresource { path += "/\(subresource)" }
        var objectRef: [String: JSONValue] = ["resource": .string(resource), "name": .string(e.object.name), "apiVersion": .string(version)]
        if !group.isEmpty { objectRef["apiGroup"] = .string(group) }
        if !e.object.namespace.isEmpty { objectRef["namespace"] = .string(e.object.namespace) }
        if !e.object.uid.isEmpty { objectRef["uid"] = .string(e.object.uid) }
        if let subresource { objectRef["subresource"] = .string(subresource) }
        let time = e.time.rfc3339
        var event: [String: JSONValue] = [
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse", "auditID": .string(auditID(e)),
            "stage": "ResponseComplete", "requestURI": .string(path), "verb": .string(verb),
            "user": .object(["username": .string(username(e.actor)), "groups": .array(groups(e.actor).map { .string($0) })]),
            "objectRef": .object(objectRef),
            "responseStatus": .object(["metadata": .object([:]), "code": .int(type == .created || type == .bound ? 201 : 200)]),
            "responseObject": type == .bound ? .object(["kind": "Status", "apiVersion": "v1", "status": "Success", "code": 201]) : object,
            "requestReceivedTimestamp": .string(time), "stageTimestamp": .string(time),
        ]
        if let request { event["requestObject"] = request }
        return .object(event)
    }

    /// A UUID-shaped audit ID: the first 128 bits of the event's chain hash.
    static func auditID(_ e: Event) -> String {
        let hex = e.hash.hex
        func part(_ from: Int, _ to: Int) -> Substring { hex.dropFirst(from).prefix(to - from) }
        return "\(part(0, 8))-\(part(8, 12))-\(part(12, 16))-\(part(16, 20))-\(part(20, 32))"
    }

    /// The Kubernetes username of an actor: the inverse of `AuditImport.actor`.
    public static func username(_ actor: Actor) -> String {
        switch actor.kind {
        case "scheduler": return "system:kube-scheduler"
        case "kubelet": return "system:node:\(actor.name)"
        case "controller" where actor.name == "kube-controller-manager": return "system:kube-controller-manager"
        case "controller":
            let account = AuditImport.controllerNames.first { $0.value == actor.name }?.key ?? actor.name + "-controller"
            return "system:serviceaccount:kube-system:\(account)"
        case "user": return actor.name
        default: return "system:apiserver"  // the bootstrap, the control plane's own writes
        }
    }

    static func groups(_ actor: Actor) -> [String] {
        switch actor.kind {
        case "kubelet": ["system:nodes", "system:authenticated"]
        case "controller" where actor.name != "kube-controller-manager": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]
        case "user": ["system:authenticated"]
        default: ["system:masters"]
        }
    }
}
