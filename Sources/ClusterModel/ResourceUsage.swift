/// What an object takes from a namespace's ResourceQuota, by the quota's resource names
/// (`pods`, `requests.cpu`, `limits.memory`, `services.nodeports`, `count/configmaps` …), as
/// kube-apiserver's quota evaluators count it. A pod that has finished takes nothing.
public enum ResourceUsage {
    /// The usage of `object`.
    public static func of(_ object: any Resource) -> [String: Quantity] {
        let kind = ResourceKind(of: type(of: object))
        var usage: [String: Quantity] = ["count/\(kind.plural)\(kind.group.isEmpty ? "" : "." + kind.group)": Quantity(1)]
        switch object {
        case let pod as Pod:
            guard !["Succeeded", "Failed"].contains(pod.status?.phase ?? "") else { return [:] }
            usage["pods"] = Quantity(1)
            for (name, q) in requests(pod) {
                usage["requests.\(name)"] = q
                if name == "cpu" || name == "memory" { usage[name] = q }
            }
            for (name, q) in limits(pod) { usage["limits.\(name)"] = q }
        case let service as Service:
            usage["services"] = Quantity(1)
            let ports = Int64(service.spec?.ports?.count ?? 0)
            switch service.spec?.type {
            case "NodePort": usage["services.nodeports"] = Quantity(ports)
            case "LoadBalancer":
                usage["services.loadbalancers"] = Quantity(1)
                usage["services.nodeports"] = Quantity(ports)
            default: break
            }
        case is ConfigMap: usage["configmaps"] = Quantity(1)
        case is Secret: usage["secrets"] = Quantity(1)
        case let claim as PersistentVolumeClaim:
            usage["persistentvolumeclaims"] = Quantity(1)
            if let storage = claim.spec?.resources?.requests?["storage"] { usage["requests.storage"] = storage }
        default: break
        }
        return usage
    }

    /// A pod's requests: the sum over its containers, or an init container's if larger (each
    /// runs alone), per resource.
    public static func requests(_ pod: Pod) -> [String: Quantity] { effective(pod) { $0.resources?.requests } }

    /// A pod's limits, the same way.
    public static func limits(_ pod: Pod) -> [String: Quantity] { effective(pod) { $0.resources?.limits } }

    static func effective(_ pod: Pod, _ amounts: (Container) -> [String: Quantity]?) -> [String: Quantity] {
        var total: [String: Quantity] = [:]
        for c in pod.spec.containers {
            for (k, v) in amounts(c) ?? [:] { total[k] = total[k].map { v + $0 } ?? v }
        }
        for c in pod.spec.initContainers ?? [] {
            for (k, v) in amounts(c) ?? [:] where v > (total[k] ?? .zero) { total[k] = v }
        }
        return total
    }

    /// Whether a quota resource name is one a quota may limit: the standard names, `count/…`,
    /// and `requests.` or `limits.` of any resource.
    public static func tracks(_ name: String) -> Bool {
        ["pods", "cpu", "memory", "services", "services.nodeports", "services.loadbalancers", "configmaps", "secrets",
         "persistentvolumeclaims", "requests.storage"].contains(name)
            || name.hasPrefix("count/") || name.hasPrefix("requests.") || name.hasPrefix("limits.")
    }
}

extension ResourceUsage {
    /// The usage of `objects` of the resources `names`, each present (zero when nothing uses it).
    public static func total(_ objects: [any Resource], of names: Set<String>) -> [String: Quantity] {
        var used = Dictionary(uniqueKeysWithValues: names.map { ($0, Quantity.zero) })
        for o in objects {
            // The object's amount first: a sum keeps the format of its left side (Mi stays Mi).
            for (name, q) in of(o) where names.contains(name) { used[name] = q + used[name]! }
        }
        return used
    }

    /// The kinds whose objects count toward the resources `names`.
    public static func kinds(counting names: Set<String>) -> [ResourceKind] {
        var kinds: Set<ResourceKind> = []
        for name in names {
            switch name {
            case "pods", "cpu", "memory": kinds.insert(.pod)
            case "services", "services.nodeports", "services.loadbalancers": kinds.insert(.service)
            case "configmaps": kinds.insert(.configMap)
            case "secrets": kinds.insert(.secret)
            case "persistentvolumeclaims", "requests.storage": kinds.insert(.persistentVolumeClaim)
            default:
                if name.hasPrefix("requests.") || name.hasPrefix("limits.") { kinds.insert(.pod) }
                if name.hasPrefix("count/") {
                    let resource = String(name.dropFirst("count/".count))
                    if let k = ResourceKind.allCases.first(where: { "\($0.plural)\($0.group.isEmpty ? "" : "." + $0.group)" == resource }) { kinds.insert(k) }
                }
            }
        }
        return kinds.sorted()
    }
}
