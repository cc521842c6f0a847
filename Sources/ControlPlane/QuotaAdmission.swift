import ClusterModel
import Journal

/// Two of kube-apiserver's admission plugins for a namespace's budget. LimitRanger gives a new
/// pod's containers the namespace's LimitRange defaults (and says so in the
/// `kubernetes.io/limit-ranger` annotation), then checks their minimums, maximums and
/// limit-to-request ratios. ResourceQuota refuses a new object that would take a namespace past a
/// quota, or a pod that names no request or limit for a resource a quota limits. Both answer 403
/// with kube-apiserver's messages. The usage is counted from the state the write is admitted on,
/// so two writes cannot both slip under a quota.
extension Store {
    static let limitRangerAnnotation = "kubernetes.io/limit-ranger"

    func admitLimits(_ pod: Pod) throws(StatusError) -> Pod {
        let ns = pod.metadata.namespace ?? "default"
        let items = state.list(.limitRange, namespace: ns).compactMap { current($0.key)?.0 as? LimitRange }
            .flatMap { $0.spec?.limits ?? [] }
        guard !items.isEmpty else { return pod }
        var pod = pod
        var set: [String] = []
        for item in items where item.type == "Container" {
            for i in pod.spec.containers.indices {
                var resources = pod.spec.containers[i].resources ?? ResourceRequirements()
                var requested: [String] = [], limited: [String] = []
                for (name, q) in (item.defaultRequest ?? [:]).sorted(by: { $0.key < $1.key }) where resources.requests?[name] == nil && resources.limits?[name] == nil {
                    resources.requests = (resources.requests ?? [:]).merging([name: q]) { a, _ in a }
                    requested.append(name)
                }
                for (name, q) in (item.default ?? [:]).sorted(by: { $0.key < $1.key }) where resources.limits?[name] == nil {
                    resources.limits = (resources.limits ?? [:]).merging([name: q]) { a, _ in a }
                    limited.append(name)
                }
                pod.spec.containers[i].resources = resources
                let container = pod.spec.containers[i].name
                if !requested.isEmpty { set.append("\(requested.joined(separator: ", ")) request for container \(container)") }
                if !limited.isEmpty { set.append("\(limited.joined(separator: ", ")) limit for container \(container)") }
            }
        }
        if !set.isEmpty {
            pod.metadata.annotations = (pod.metadata.annotations ?? [:]).merging([Self.limitRangerAnnotation: "LimitRanger plugin set: " + set.joined(separator: "; ")]) { _, new in new }
        }
        var problems: [String] = []
        for item in items {
            switch item.type {
            case "Container":
                for c in pod.spec.containers { problems += Self.bounds(item, requests: c.resources?.requests ?? [:], limits: c.resources?.limits ?? [:], of: "Container") }
            case "Pod":
                problems += Self.bounds(item, requests: ResourceUsage.requests(pod), limits: ResourceUsage.limits(pod), of: "Pod")
            default: break
            }
        }
        if !problems.isEmpty { throw forbidden(pod, problems) }
        return pod
    }

    /// What a LimitRange item says of one container's (or pod's) amounts, in LimitRanger's words.
    static func bounds(_ item: LimitRangeItem, requests: [String: Quantity], limits: [String: Quantity], of what: String) -> [String] {
        var problems: [String] = []
        for (name, min) in (item.min ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let r = requests[name], r < min { problems.append("minimum \(name) usage per \(what) is \(min), but request is \(r)") }
            if let l = limits[name], l < min { problems.append("minimum \(name) usage per \(what) is \(min), but limit is \(l)") }
            if requests[name] == nil, limits[name] == nil { problems.append("minimum \(name) usage per \(what) is \(min).  No request is specified") }
        }
        for (name, max) in (item.max ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let l = limits[name] {
                if l > max { problems.append("maximum \(name) usage per \(what) is \(max), but limit is \(l)") }
            } else {
                problems.append("maximum \(name) usage per \(what) is \(max).  No limit is specified")
            }
        }
        for (name, ratio) in (item.maxLimitRequestRatio ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let l = limits[name], let r = requests[name], r > .zero else { continue }
            let provided = Double(l.milli) / Double(r.milli)
            if provided > Double(ratio.milli) / 1000 {
                problems.append("\(name) max limit to request ratio per \(what) is \(ratio), but provided ratio is \(String(format: "%.6f", provided))")
            }
        }
        return problems
    }

    func admitQuota(_ object: some Resource) throws(StatusError) {
        let ns = object.metadata.namespace ?? "default"
        let quotas = state.list(.resourceQuota, namespace: ns).compactMap { current($0.key)?.0 as? ResourceQuota }
        guard !quotas.isEmpty else { return }
        let delta = ResourceUsage.of(object)
        for quota in quotas.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) {
            let hard = quota.spec?.hard ?? [:]
            let limited = Set(hard.keys).filter(ResourceUsage.tracks)
            let name = quota.metadata.name ?? ""
            // A pod must say how much it asks for of whatever the quota limits.
            if let pod = object as? Pod, !delta.isEmpty {
                var missing: [String] = []
                for resource in limited.sorted() where resource.hasPrefix("requests.") || resource.hasPrefix("limits.") || resource == "cpu" || resource == "memory" {
                    let isLimit = resource.hasPrefix("limits.")
                    let base = resource.split(separator: ".").last.map(String.init) ?? resource
                    let lacking = pod.spec.containers.filter { c in (isLimit ? c.resources?.limits : c.resources?.requests)?[base] == nil }.map(\.name)
                    if !lacking.isEmpty { missing.append("\(isLimit ? "limits" : "requests").\(base) for: \(lacking.joined(separator: ","))") }
                }
                if !missing.isEmpty { throw forbidden(object, ["failed quota: \(name): must specify \(missing.joined(separator: "; "))"]) }
            }
            let relevant = limited.filter { delta[$0] != nil }
            guard !relevant.isEmpty else { continue }
            let objects = ResourceUsage.kinds(counting: relevant).flatMap { kind in
                state.list(kind, namespace: ns).compactMap { current($0.key)?.0 }
            }
            let used = ResourceUsage.total(objects, of: relevant)
            let exceeded = relevant.filter { used[$0]! + delta[$0]! > hard[$0]! }.sorted()
            guard !exceeded.isEmpty else { continue }
            func list(_ amounts: (String) -> Quantity) -> String { exceeded.map { "\($0)=\(amounts($0))" }.joined(separator: ",") }
            throw forbidden(object, ["exceeded quota: \(name), requested: \(list { delta[$0]! }), used: \(list { used[$0]! }), limited: \(list { hard[$0]! })"])
        }
    }

    private func forbidden(_ object: some Resource, _ problems: [String]) -> StatusError {
        let kind = ResourceKind(of: type(of: object))
        let name = object.metadata.name ?? object.metadata.generateName ?? ""
        let why = problems.count == 1 ? problems[0] : "[" + problems.joined(separator: ", ") + "]"
        return StatusError(.forbidden, "\(kind.plural) \"\(name)\" is forbidden: \(why)", name: name, group: kind.group, kind: kind.plural)
    }
}
