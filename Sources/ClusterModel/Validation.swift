import Foundation

/// Kubernetes' validation for the fields KubeJournal serves, with Kubernetes' messages.
public enum Validation {
    /// Everything wrong with `object` as a new object (after defaulting), in field order.
    public static func validate(_ object: any Resource) -> [FieldError] {
        var v = Validator()
        v.meta(object.metadata, kind: type(of: object).kind, namespaced: type(of: object).namespaced)
        switch object {
        case let pod as Pod: v.podSpec(pod.spec, "spec")
        case let node as Node: v.nodeSpec(node.spec)
        case let rs as ReplicaSet:
            v.replicas(rs.spec.replicas, "spec.replicas")
            v.workload(selector: rs.spec.selector, template: rs.spec.template, "spec")
        case let d as Deployment:
            v.replicas(d.spec.replicas, "spec.replicas")
            v.workload(selector: d.spec.selector, template: d.spec.template, "spec")
            v.strategy(d.spec.strategy)
        case let s as Service: v.service(s.spec)
        case let e as Endpoints: v.endpoints(e.subsets)
        case let e as CoreEvent: v.event(e)
        case let pc as PriorityClass: v.priorityClass(pc)
        case let cm as ConfigMap: v.configKeys(Array((cm.data ?? [:]).keys) + Array((cm.binaryData ?? [:]).keys), "data")
        case let s as Secret: v.secret(s)
        case let sts as StatefulSet: v.statefulSet(sts.spec)
        case let ds as DaemonSet:
            v.workload(selector: ds.spec.selector, template: ds.spec.template, "spec", noun: "daemonset")
            v.oneOf(ds.spec.updateStrategy?.type, "spec.updateStrategy.type", ["OnDelete", "RollingUpdate"])
        case let job as Job: v.job(job.spec, "spec", selectorRequired: job.metadata.uid != nil)
        case let cj as CronJob: v.cronJob(cj.spec)
        case let h as HorizontalPodAutoscaler: v.autoscaler(h.spec)
        case let p as PodDisruptionBudget: v.disruptionBudget(p.spec)
        case let c as PersistentVolumeClaim: v.claim(c.spec, "spec")
        case let pv as PersistentVolume: v.volume(pv.spec)
        case let sc as StorageClass: v.storageClass(sc)
        case let slice as EndpointSlice: v.oneOf(slice.addressType, "addressType", ["FQDN", "IPv4", "IPv6"])
        case let i as Ingress: v.ingress(i.spec)
        case let lr as LimitRange:
            for (i, item) in (lr.spec?.limits ?? []).enumerated() {
                v.oneOf(item.type, "spec.limits[\(i)].type", ["Container", "PersistentVolumeClaim", "Pod"])
            }
        default: break
        }
        return v.errors
    }

    /// What an update may not change, in addition to `validate(new)`.
    public static func validateUpdate(old: any Resource, new: any Resource) -> [FieldError] {
        var errors: [FieldError] = []
        if let o = old as? Pod, let n = new as? Pod {
            var a = o.spec, b = n.spec
            // Mutable: container images, activeDeadlineSeconds, added tolerations; nodeName is set by binding.
            for i in a.containers.indices where i < b.containers.count { a.containers[i].image = b.containers[i].image }
            a.activeDeadlineSeconds = b.activeDeadlineSeconds
            if (b.tolerations ?? []).starts(with: a.tolerations ?? []) { a.tolerations = b.tolerations }
            if a.nodeName == nil { a.nodeName = b.nodeName }
            if a != b {
                errors.append(FieldError(.forbidden, "spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"))
            }
        }
        if let o = old as? Deployment, let n = new as? Deployment, o.spec.selector != n.spec.selector {
            errors.append(FieldError(.invalid, "spec.selector", value: selectorText(n.spec.selector), "field is immutable"))
        }
        if let o = old as? PriorityClass, let n = new as? PriorityClass {
            if o.value != n.value { errors.append(FieldError(.invalid, "value", value: "\(n.value)", "field is immutable")) }
            if o.preemptionPolicy != n.preemptionPolicy {
                errors.append(FieldError(.invalid, "preemptionPolicy", value: FieldError.quoted(n.preemptionPolicy ?? ""), "field is immutable"))
            }
        }
        if let o = old as? Service, let n = new as? Service, let was = o.spec?.clusterIP, !was.isEmpty,
           let now = n.spec?.clusterIP, now != was, n.spec?.type != "ExternalName" {
            errors.append(FieldError(.invalid, "spec.clusterIPs[0]", value: "[]string{\"\(now)\"}", "may not change once set"))
        }
        if let o = old as? StatefulSet, let n = new as? StatefulSet {
            var a = o.spec
            (a.replicas, a.ordinals, a.template, a.updateStrategy) = (n.spec.replicas, n.spec.ordinals, n.spec.template, n.spec.updateStrategy)
            (a.persistentVolumeClaimRetentionPolicy, a.minReadySeconds) = (n.spec.persistentVolumeClaimRetentionPolicy, n.spec.minReadySeconds)
            if a != n.spec {
                errors.append(FieldError(.forbidden, "spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
            }
        }
        if let o = old as? Job, let n = new as? Job {
            if o.spec.selector != n.spec.selector, let s = n.spec.selector {
                errors.append(FieldError(.invalid, "spec.selector", value: selectorText(s), "field is immutable"))
            }
            if o.spec.completions != n.spec.completions, o.spec.completionMode != "Indexed" {
                errors.append(FieldError(.invalid, "spec.completions", value: n.spec.completions.map(String.init) ?? "null", "field is immutable"))
            }
            if o.spec.template != n.spec.template {
                errors.append(FieldError(.invalid, "spec.template", value: nil, "field is immutable"))
            }
        }
        if let o = old as? ConfigMap, let n = new as? ConfigMap, o.immutable == true {
            if o.data != n.data || o.binaryData != n.binaryData {
                errors.append(FieldError(.forbidden, "data", "field is immutable when `immutable` is set"))
            }
            if n.immutable != true { errors.append(FieldError(.forbidden, "immutable", "field is immutable when `immutable` is set")) }
        }
        if let o = old as? Secret, let n = new as? Secret {
            if o.type != n.type { errors.append(FieldError(.invalid, "type", value: FieldError.quoted(n.type ?? ""), "field is immutable")) }
            if o.immutable == true {
                if o.data != n.data { errors.append(FieldError(.forbidden, "data", "field is immutable when `immutable` is set")) }
                if n.immutable != true { errors.append(FieldError(.forbidden, "immutable", "field is immutable when `immutable` is set")) }
            }
        }
        if let o = old as? ReplicaSet, let n = new as? ReplicaSet, o.spec.selector != n.spec.selector {
            errors.append(FieldError(.invalid, "spec.selector", value: selectorText(n.spec.selector), "field is immutable"))
        }
        return errors
    }

    static func selectorText(_ s: LabelSelector) -> String {
        let labels = (s.matchLabels ?? [:]).sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ", ")
        return "v1.LabelSelector{MatchLabels:map[string]string{\(labels)}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
    }
}

private struct Validator {
    var errors: [FieldError] = []

    mutating func add(_ e: FieldError) { errors.append(e) }

    /// kube-apiserver's `ValidatePriorityClass`: `system-` names are the built-in classes only, user
    /// values at most one billion, a known preemption policy.
    mutating func priorityClass(_ pc: PriorityClass) {
        let name = pc.metadata.name ?? ""
        if name.hasPrefix("system-") {
            if let builtIn = PriorityClass.systemClasses[name] {
                if builtIn != pc.value || pc.globalDefault == true {
                    add(FieldError(.forbidden, "metadata.name", "priority class names with 'system-' prefix are reserved for system use only. error: priority class \(name) is not compatible with the built-in one"))
                }
            } else {
                add(FieldError(.forbidden, "metadata.name", "priority class names with 'system-' prefix are reserved for system use only. error: \(name) is not a known system priority class"))
            }
        } else if pc.value > PriorityClass.highestUserDefinablePriority {
            add(FieldError(.forbidden, "value", "maximum allowed value of a user defined priority is \(PriorityClass.highestUserDefinablePriority)"))
        }
        if let policy = pc.preemptionPolicy, !["PreemptLowerPriority", "Never"].contains(policy) {
            add(FieldError(.notSupported(["Never", "PreemptLowerPriority"]), "preemptionPolicy", value: FieldError.quoted(policy)))
        }
    }

    // MARK: metadata

    mutating func meta(_ m: ObjectMeta, kind: String, namespaced: Bool) {
        if let name = m.name, !name.isEmpty {
            checkName(name, kind: kind, field: "metadata.name")
        } else if m.generateName == nil || m.generateName!.isEmpty {
            add(FieldError(.required, "metadata.name", "name or generateName is required"))
        }
        if namespaced, let ns = m.namespace, !NameFormat.isDNS1123Label(ns) {
            add(FieldError(.invalid, "metadata.namespace", value: FieldError.quoted(ns), NameFormat.dns1123LabelMessage))
        }
        for (k, v) in (m.labels ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let problem = NameFormat.qualifiedNameProblem(k) {
                add(FieldError(.invalid, "metadata.labels", value: FieldError.quoted(k), problem))
            }
            if !NameFormat.isLabelValue(v) {
                add(FieldError(.invalid, "metadata.labels", value: FieldError.quoted(v), NameFormat.labelValueMessage))
            }
        }
        for k in (m.annotations ?? [:]).keys.sorted() {
            if let problem = NameFormat.qualifiedNameProblem(k) {
                add(FieldError(.invalid, "metadata.annotations", value: FieldError.quoted(k), problem))
            }
        }
        if let g = m.deletionGracePeriodSeconds, g < 0 {
            add(FieldError(.invalid, "metadata.deletionGracePeriodSeconds", value: "\(g)", "must be greater than or equal to 0"))
        }
        for (i, o) in (m.ownerReferences ?? []).enumerated() {
            if o.uid.isEmpty { add(FieldError(.invalid, "metadata.ownerReferences[\(i)].uid", value: "\"\"", "uid must not be empty")) }
            if o.name.isEmpty { add(FieldError(.invalid, "metadata.ownerReferences[\(i)].name", value: "\"\"", "name must not be empty")) }
        }
        if (m.ownerReferences ?? []).filter({ $0.controller == true }).count > 1 {
            add(FieldError(.invalid, "metadata.ownerReferences", value: nil, "Only one reference can have Controller set to true"))
        }
    }

    mutating func checkName(_ name: String, kind: String, field: String) {
        switch kind {
        case "Service":
            if !NameFormat.isDNS1035Label(name) { add(FieldError(.invalid, field, value: FieldError.quoted(name), NameFormat.dns1035LabelMessage)) }
        case "Namespace":
            if !NameFormat.isDNS1123Label(name) { add(FieldError(.invalid, field, value: FieldError.quoted(name), NameFormat.dns1123LabelMessage)) }
        default:
            if name.utf8.count > NameFormat.dns1123SubdomainMax {
                add(FieldError(.invalid, field, value: FieldError.quoted(name), "must be no more than 253 characters"))
            } else if !NameFormat.isDNS1123Subdomain(name) {
                add(FieldError(.invalid, field, value: FieldError.quoted(name), NameFormat.dns1123SubdomainMessage))
            }
        }
    }

    // MARK: pods

    mutating func podSpec(_ s: PodSpec, _ p: String) {
        if s.containers.isEmpty { add(FieldError(.required, "\(p).containers")) }
        var names = Set<String>()
        for (list, field) in [(s.initContainers ?? [], "initContainers"), (s.containers, "containers")] {
            for (i, c) in list.enumerated() {
                let cp = "\(p).\(field)[\(i)]"
                if c.name.isEmpty {
                    add(FieldError(.required, "\(cp).name"))
                } else if !NameFormat.isDNS1123Label(c.name) {
                    add(FieldError(.invalid, "\(cp).name", value: FieldError.quoted(c.name), NameFormat.dns1123LabelMessage))
                } else if !names.insert(c.name).inserted {
                    add(FieldError(.duplicate, "\(cp).name", value: FieldError.quoted(c.name)))
                }
                if (c.image ?? "").isEmpty { add(FieldError(.required, "\(cp).image")) }
                if let pull = c.imagePullPolicy, !["Always", "IfNotPresent", "Never"].contains(pull) {
                    add(FieldError(.notSupported(["Always", "IfNotPresent", "Never"]), "\(cp).imagePullPolicy", value: FieldError.quoted(pull)))
                }
                ports(c.ports ?? [], "\(cp).ports")
                resources(c.resources, "\(cp).resources")
            }
        }
        if let r = s.restartPolicy, !["Always", "OnFailure", "Never"].contains(r) {
            add(FieldError(.notSupported(["Always", "Never", "OnFailure"]), "\(p).restartPolicy", value: FieldError.quoted(r)))
        }
        if let g = s.terminationGracePeriodSeconds, g < 0 {
            add(FieldError(.invalid, "\(p).terminationGracePeriodSeconds", value: "\(g)", "must be greater than or equal to 0"))
        }
        if let d = s.activeDeadlineSeconds, d <= 0 || d > Int64(Int32.max) {
            add(FieldError(.invalid, "\(p).activeDeadlineSeconds", value: "\(d)", "must be between 1 and 2147483647, inclusive"))
        }
        if let dns = s.dnsPolicy, !["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"].contains(dns) {
            add(FieldError(.notSupported(["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]), "\(p).dnsPolicy", value: FieldError.quoted(dns)))
        }
        if let n = s.nodeName, !NameFormat.isDNS1123Subdomain(n) {
            add(FieldError(.invalid, "\(p).nodeName", value: FieldError.quoted(n), NameFormat.dns1123SubdomainMessage))
        }
        for (k, v) in (s.nodeSelector ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let problem = NameFormat.qualifiedNameProblem(k) { add(FieldError(.invalid, "\(p).nodeSelector", value: FieldError.quoted(k), problem)) }
            if !NameFormat.isLabelValue(v) { add(FieldError(.invalid, "\(p).nodeSelector", value: FieldError.quoted(v), NameFormat.labelValueMessage)) }
        }
        tolerations(s.tolerations ?? [], "\(p).tolerations")
        if let na = s.affinity?.nodeAffinity { nodeAffinity(na, "\(p).affinity.nodeAffinity") }
    }

    mutating func ports(_ ports: [ContainerPort], _ p: String) {
        var seen = Set<String>()
        for (i, port) in ports.enumerated() {
            let pp = "\(p)[\(i)]"
            if !(1...65535).contains(port.containerPort) {
                add(FieldError(.invalid, "\(pp).containerPort", value: "\(port.containerPort)", "must be between 1 and 65535, inclusive"))
            }
            if let h = port.hostPort, h != 0, !(1...65535).contains(h) {
                add(FieldError(.invalid, "\(pp).hostPort", value: "\(h)", "must be between 1 and 65535, inclusive"))
            }
            if let proto = port.protocol, !["TCP", "UDP", "SCTP"].contains(proto) {
                add(FieldError(.notSupported(["SCTP", "TCP", "UDP"]), "\(pp).protocol", value: FieldError.quoted(proto)))
            }
            if let name = port.name, !name.isEmpty, !seen.insert(name).inserted {
                add(FieldError(.duplicate, "\(pp).name", value: FieldError.quoted(name)))
            }
        }
    }

    mutating func resources(_ r: ResourceRequirements?, _ p: String) {
        guard let r else { return }
        for (field, list) in [("limits", r.limits ?? [:]), ("requests", r.requests ?? [:])] {
            for (name, q) in list.sorted(by: { $0.key < $1.key }) where q.milli < 0 {
                add(FieldError(.invalid, "\(p).\(field)[\(name)]", value: FieldError.quoted(q.description), "must be greater than or equal to 0"))
            }
        }
        for (name, request) in (r.requests ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let limit = r.limits?[name], request > limit {
                add(FieldError(.invalid, "\(p).requests", value: FieldError.quoted(request.description), "must be less than or equal to \(name) limit of \(limit)"))
            }
        }
    }

    mutating func tolerations(_ list: [Toleration], _ p: String) {
        for (i, t) in list.enumerated() {
            let tp = "\(p)[\(i)]"
            let op = t.operator ?? "Equal"
            if !["Equal", "Exists"].contains(op) {
                add(FieldError(.notSupported(["Equal", "Exists"]), "\(tp).operator", value: FieldError.quoted(op)))
            }
            if op == "Exists", let v = t.value, !v.isEmpty {
                add(FieldError(.invalid, "\(tp).operator", value: FieldError.quoted(op), "value must be empty when `operator` is 'Exists'"))
            }
            if (t.key ?? "").isEmpty, op != "Exists" {
                add(FieldError(.invalid, "\(tp).operator", value: FieldError.quoted(op), "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
            }
            if let e = t.effect, !e.isEmpty, !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(e) {
                add(FieldError(.notSupported(["NoExecute", "NoSchedule", "PreferNoSchedule"]), "\(tp).effect", value: FieldError.quoted(e)))
            }
            if t.tolerationSeconds != nil, t.effect != "NoExecute" {
                add(FieldError(.invalid, "\(tp).effect", value: FieldError.quoted(t.effect ?? ""), "effect must be 'NoExecute' when `tolerationSeconds` is set"))
            }
        }
    }

    mutating func nodeAffinity(_ na: NodeAffinity, _ p: String) {
        if let req = na.requiredDuringSchedulingIgnoredDuringExecution {
            let rp = "\(p).requiredDuringSchedulingIgnoredDuringExecution"
            if req.nodeSelectorTerms.isEmpty { add(FieldError(.required, "\(rp).nodeSelectorTerms", "must have at least one node selector term")) }
            for (i, term) in req.nodeSelectorTerms.enumerated() { selectorTerm(term, "\(rp).nodeSelectorTerms[\(i)]") }
        }
        for (i, pref) in (na.preferredDuringSchedulingIgnoredDuringExecution ?? []).enumerated() {
            let pp = "\(p).preferredDuringSchedulingIgnoredDuringExecution[\(i)]"
            if !(1...100).contains(pref.weight) {
                add(FieldError(.invalid, "\(pp).weight", value: "\(pref.weight)", "must be in the range 1-100"))
            }
            selectorTerm(pref.preference, "\(pp).preference")
        }
    }

    mutating func selectorTerm(_ term: NodeSelectorTerm, _ p: String) {
        for (i, r) in (term.matchExpressions ?? []).enumerated() {
            let rp = "\(p).matchExpressions[\(i)]"
            let values = r.values ?? []
            switch r.operator {
            case "In", "NotIn":
                if values.isEmpty { add(FieldError(.required, "\(rp).values", "must be specified when `operator` is 'In' or 'NotIn'")) }
            case "Exists", "DoesNotExist":
                if !values.isEmpty { add(FieldError(.forbidden, "\(rp).values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")) }
            case "Gt", "Lt":
                if values.count != 1 || Int64(values[0]) == nil {
                    add(FieldError(.required, "\(rp).values", "must be specified single value when `operator` is 'Lt' or 'Gt'"))
                }
            default:
                add(FieldError(.invalid, "\(rp).operator", value: FieldError.quoted(r.operator), "not a valid selector operator"))
            }
            if let problem = NameFormat.qualifiedNameProblem(r.key) {
                add(FieldError(.invalid, "\(rp).key", value: FieldError.quoted(r.key), problem))
            }
        }
    }

    // MARK: nodes

    mutating func nodeSpec(_ s: NodeSpec?) {
        for (i, t) in (s?.taints ?? []).enumerated() {
            let tp = "spec.taints[\(i)]"
            if let problem = NameFormat.qualifiedNameProblem(t.key) { add(FieldError(.invalid, "\(tp).key", value: FieldError.quoted(t.key), problem)) }
            if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(t.effect) {
                add(t.effect.isEmpty
                    ? FieldError(.required, "\(tp).effect")
                    : FieldError(.notSupported(["NoExecute", "NoSchedule", "PreferNoSchedule"]), "\(tp).effect", value: FieldError.quoted(t.effect)))
            }
        }
    }

    // MARK: workloads

    mutating func replicas(_ r: Int32?, _ p: String) {
        if let r, r < 0 { add(FieldError(.invalid, p, value: "\(r)", "must be greater than or equal to 0")) }
    }

    /// A controller's selector and pod template; `noun` names the kind in kube-apiserver's
    /// message (ReplicaSets share the Deployment's), `restartPolicies` what its pods may use.
    mutating func workload(selector: LabelSelector, template: PodTemplateSpec?, _ p: String, noun: String = "deployment",
                           restartPolicies: [String] = ["Always"]) {
        let labels = selector.matchLabels ?? [:], exprs = selector.matchExpressions ?? []
        if labels.isEmpty && exprs.isEmpty {
            add(FieldError(.invalid, "\(p).selector", value: Validation.selectorText(selector), "empty selector is invalid for \(noun)"))
        }
        guard let template else {
            add(FieldError(.required, "\(p).template"))
            return
        }
        let templateLabels = template.metadata?.labels ?? [:]
        let matches = labels.allSatisfy { templateLabels[$0.key] == $0.value }
            && exprs.allSatisfy { LabelRequirement(expression: $0)?.matches(templateLabels) ?? false }
        if !matches {
            let shown = templateLabels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ", ")
            add(FieldError(.invalid, "\(p).template.metadata.labels", value: "map[string]string{\(shown)}", "`selector` does not match template `labels`"))
        }
        podSpec(template.spec, "\(p).template.spec")
        restartPolicy(template.spec.restartPolicy, "\(p).template.spec.restartPolicy", restartPolicies)
    }

    mutating func restartPolicy(_ r: String?, _ p: String, _ allowed: [String]) {
        if let r, !allowed.contains(r) { add(FieldError(.notSupported(allowed), p, value: FieldError.quoted(r))) }
    }

    mutating func strategy(_ s: DeploymentStrategy?) {
        guard let s else { return }
        let type = s.type ?? "RollingUpdate"
        if !["RollingUpdate", "Recreate"].contains(type) {
            add(FieldError(.notSupported(["Recreate", "RollingUpdate"]), "spec.strategy.type", value: FieldError.quoted(type)))
        }
        if type == "Recreate", s.rollingUpdate != nil {
            add(FieldError(.forbidden, "spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"))
        }
        guard let ru = s.rollingUpdate else { return }
        func check(_ v: IntOrString?, _ field: String) -> Int? {
            guard let v else { return nil }
            switch v {
            case .int(let i):
                if i < 0 { add(FieldError(.invalid, field, value: "\(i)", "must be greater than or equal to 0")) }
                return Int(i)
            case .string(let s):
                guard s.hasSuffix("%"), let p = Int(s.dropLast()), p >= 0 else {
                    add(FieldError(.invalid, field, value: FieldError.quoted(s), "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"))
                    return nil
                }
                if p > 100, field.hasSuffix("maxUnavailable") {
                    add(FieldError(.invalid, field, value: FieldError.quoted(s), "must not be greater than 100%"))
                }
                return p
            }
        }
        let u = check(ru.maxUnavailable, "spec.strategy.rollingUpdate.maxUnavailable")
        let sg = check(ru.maxSurge, "spec.strategy.rollingUpdate.maxSurge")
        if u == 0, sg == 0 {
            add(FieldError(.invalid, "spec.strategy.rollingUpdate.maxUnavailable", value: "0", "may not be 0 when `maxSurge` is 0"))
        }
    }

    // MARK: services, endpoints, events

    mutating func service(_ s: ServiceSpec?) {
        guard let s else {
            add(FieldError(.required, "spec"))
            return
        }
        let type = s.type ?? "ClusterIP"
        if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(type) {
            add(FieldError(.notSupported(["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]), "spec.type", value: FieldError.quoted(type)))
        }
        let ports = s.ports ?? []
        if ports.isEmpty, type != "ExternalName", s.clusterIP != "None" { add(FieldError(.required, "spec.ports")) }
        var names = Set<String>()
        for (i, port) in ports.enumerated() {
            let pp = "spec.ports[\(i)]"
            if !(1...65535).contains(port.port) {
                add(FieldError(.invalid, "\(pp).port", value: "\(port.port)", "must be between 1 and 65535, inclusive"))
            }
            if ports.count > 1, (port.name ?? "").isEmpty { add(FieldError(.required, "\(pp).name")) }
            if let n = port.name, !n.isEmpty, !names.insert(n).inserted { add(FieldError(.duplicate, "\(pp).name", value: FieldError.quoted(n))) }
            if case .int(let t) = port.targetPort, !(1...65535).contains(t) {
                add(FieldError(.invalid, "\(pp).targetPort", value: "\(t)", "must be between 1 and 65535, inclusive"))
            }
            if let proto = port.protocol, !["TCP", "UDP", "SCTP"].contains(proto) {
                add(FieldError(.notSupported(["SCTP", "TCP", "UDP"]), "\(pp).protocol", value: FieldError.quoted(proto)))
            }
        }
        for (k, v) in (s.selector ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let problem = NameFormat.qualifiedNameProblem(k) { add(FieldError(.invalid, "spec.selector", value: FieldError.quoted(k), problem)) }
            if !NameFormat.isLabelValue(v) { add(FieldError(.invalid, "spec.selector", value: FieldError.quoted(v), NameFormat.labelValueMessage)) }
        }
    }

    mutating func endpoints(_ subsets: [EndpointSubset]?) {
        for (i, s) in (subsets ?? []).enumerated() {
            for (j, port) in (s.ports ?? []).enumerated() where !(1...65535).contains(port.port) {
                add(FieldError(.invalid, "subsets[\(i)].ports[\(j)].port", value: "\(port.port)", "must be between 1 and 65535, inclusive"))
            }
            for (j, a) in (s.addresses ?? []).enumerated() where a.ip.isEmpty {
                add(FieldError(.required, "subsets[\(i)].addresses[\(j)].ip"))
            }
        }
    }

    mutating func event(_ e: CoreEvent) {
        if (e.involvedObject.kind ?? "").isEmpty { add(FieldError(.required, "involvedObject.kind")) }
        if (e.involvedObject.name ?? "").isEmpty { add(FieldError(.required, "involvedObject.name")) }
        if let t = e.type, !["Normal", "Warning"].contains(t) {
            add(FieldError(.notSupported(["Normal", "Warning"]), "type", value: FieldError.quoted(t)))
        }
    }
}

// MARK: the config, storage, workload and policy kinds

extension Validator {
    /// ConfigMap and Secret keys (`IsConfigMapKey`).
    mutating func configKeys(_ keys: [String], _ p: String) {
        for key in keys.sorted() {
            let valid = !key.isEmpty && key.utf8.count <= 253 && key != "." && key != ".."
                && key.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || "-._".unicodeScalars.contains($0) }
            if !valid {
                add(FieldError(.invalid, "\(p)[\(key)]", value: FieldError.quoted(key),
                               "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"))
            }
        }
    }

    mutating func secret(_ s: Secret) {
        configKeys(Array((s.data ?? [:]).keys), "data")
        var total = 0
        for key in (s.data ?? [:]).keys.sorted() {
            let value = s.data![key]!
            guard let bytes = Data(base64Encoded: value) else {
                add(FieldError(.invalid, "data[\(key)]", value: "<secret>", "illegal base64 data"))
                continue
            }
            total += bytes.count
        }
        if total > 1024 * 1024 { add(FieldError(.tooLong(1024 * 1024), "data", value: "<secret>", "")) }
        if s.type == "kubernetes.io/service-account-token", s.metadata.annotations?["kubernetes.io/service-account.name"] == nil {
            add(FieldError(.required, "metadata.annotations[kubernetes.io/service-account.name]"))
        }
    }

    /// A value from a closed set.
    mutating func oneOf(_ value: String?, _ p: String, _ allowed: [String]) {
        if let value, !allowed.contains(value) { add(FieldError(.notSupported(allowed), p, value: FieldError.quoted(value))) }
    }

    mutating func nonNegative(_ value: Int64?, _ p: String) {
        if let value, value < 0 { add(FieldError(.invalid, p, value: "\(value)", "must be greater than or equal to 0")) }
    }

    mutating func statefulSet(_ s: StatefulSetSpec) {
        replicas(s.replicas, "spec.replicas")
        oneOf(s.podManagementPolicy, "spec.podManagementPolicy", ["OrderedReady", "Parallel"])
        oneOf(s.updateStrategy?.type, "spec.updateStrategy.type", ["OnDelete", "RollingUpdate"])
        if s.updateStrategy?.type == "OnDelete", s.updateStrategy?.rollingUpdate != nil {
            add(FieldError(.invalid, "spec.updateStrategy.rollingUpdate", value: nil, "only allowed for updateStrategy 'RollingUpdate'"))
        }
        nonNegative(s.updateStrategy?.rollingUpdate?.partition.map(Int64.init), "spec.updateStrategy.rollingUpdate.partition")
        workload(selector: s.selector, template: s.template, "spec", noun: "statefulset")
        for (i, t) in (s.volumeClaimTemplates ?? []).enumerated() {
            if (t.metadata.name ?? "").isEmpty { add(FieldError(.required, "spec.volumeClaimTemplates[\(i)].metadata.name", "name or generateName is required")) }
            claim(t.spec, "spec.volumeClaimTemplates[\(i)].spec")
        }
    }

    /// A Job's spec; its selector is generated once it has a uid, so it is required only then.
    mutating func job(_ s: JobSpec, _ p: String, selectorRequired: Bool) {
        nonNegative(s.parallelism.map(Int64.init), "\(p).parallelism")
        nonNegative(s.completions.map(Int64.init), "\(p).completions")
        nonNegative(s.backoffLimit.map(Int64.init), "\(p).backoffLimit")
        if let d = s.activeDeadlineSeconds, d <= 0 { add(FieldError(.invalid, "\(p).activeDeadlineSeconds", value: "\(d)", "must be greater than 0")) }
        oneOf(s.completionMode, "\(p).completionMode", ["Indexed", "NonIndexed"])
        if s.completionMode == "Indexed", s.completions == nil {
            add(FieldError(.required, "\(p).completions", "when completion mode is Indexed"))
        }
        if let selector = s.selector {
            workload(selector: selector, template: s.template, p, noun: "job", restartPolicies: ["OnFailure", "Never"])
        } else {
            if selectorRequired { add(FieldError(.required, "\(p).selector")) }
            podSpec(s.template.spec, "\(p).template.spec")
            restartPolicy(s.template.spec.restartPolicy, "\(p).template.spec.restartPolicy", ["OnFailure", "Never"])
        }
    }

    mutating func cronJob(_ s: CronJobSpec) {
        if s.schedule.trimmingCharacters(in: .whitespaces).isEmpty {
            add(FieldError(.required, "spec.schedule"))
        } else if s.schedule.contains("TZ") {
            add(FieldError(.invalid, "spec.schedule", value: FieldError.quoted(s.schedule), "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
        } else {
            do { _ = try CronSchedule(parsing: s.schedule) } catch {
                add(FieldError(.invalid, "spec.schedule", value: FieldError.quoted(s.schedule), "unparseable schedule: \(error)"))
            }
        }
        if let zone = s.timeZone, TimeZone(identifier: zone) == nil {
            add(FieldError(.invalid, "spec.timeZone", value: FieldError.quoted(zone), "unknown time zone \(zone)"))
        }
        oneOf(s.concurrencyPolicy, "spec.concurrencyPolicy", ["Allow", "Forbid", "Replace"])
        nonNegative(s.startingDeadlineSeconds, "spec.startingDeadlineSeconds")
        nonNegative(s.successfulJobsHistoryLimit.map(Int64.init), "spec.successfulJobsHistoryLimit")
        nonNegative(s.failedJobsHistoryLimit.map(Int64.init), "spec.failedJobsHistoryLimit")
        job(s.jobTemplate.spec, "spec.jobTemplate.spec", selectorRequired: false)
    }

    mutating func autoscaler(_ s: HorizontalPodAutoscalerSpec) {
        if let min = s.minReplicas, min < 1 {
            add(FieldError(.invalid, "spec.minReplicas", value: "\(min)", "must be greater than or equal to 1"))
        }
        if s.maxReplicas < 1 {
            add(FieldError(.invalid, "spec.maxReplicas", value: "\(s.maxReplicas)", "must be greater than 0"))
        } else if let min = s.minReplicas, s.maxReplicas < min {
            add(FieldError(.invalid, "spec.maxReplicas", value: "\(s.maxReplicas)", "must be greater than or equal to `minReplicas`"))
        }
        if s.scaleTargetRef.kind.isEmpty { add(FieldError(.required, "spec.scaleTargetRef.kind")) }
        if s.scaleTargetRef.name.isEmpty { add(FieldError(.required, "spec.scaleTargetRef.name")) }
    }

    mutating func disruptionBudget(_ s: PodDisruptionBudgetSpec?) {
        guard let s else { return }
        if s.minAvailable != nil, s.maxUnavailable != nil {
            let both = (try? ValueEncoder().encode(PodDisruptionBudgetSpec(minAvailable: s.minAvailable, maxUnavailable: s.maxUnavailable, selector: nil)))?.jsonString
            add(FieldError(.invalid, "spec", value: both, "minAvailable and maxUnavailable cannot be both set"))
        }
        for (value, field) in [(s.minAvailable, "spec.minAvailable"), (s.maxUnavailable, "spec.maxUnavailable")] {
            switch value {
            case .int(let i) where i < 0:
                add(FieldError(.invalid, field, value: "\(i)", "must be greater than or equal to 0"))
            case .string(let text):
                let number = text.hasSuffix("%") ? Int(text.dropLast()) : nil
                if number == nil {
                    add(FieldError(.invalid, field, value: FieldError.quoted(text), "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"))
                } else if number! > 100 {
                    add(FieldError(.invalid, field, value: FieldError.quoted(text), "must not be greater than 100%"))
                }
            default: break
            }
        }
        oneOf(s.unhealthyPodEvictionPolicy, "spec.unhealthyPodEvictionPolicy", ["AlwaysAllow", "IfHealthyBudget"])
    }

    static let accessModes = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]

    mutating func claim(_ s: PersistentVolumeClaimSpec?, _ p: String) {
        let modes = s?.accessModes ?? []
        if modes.isEmpty { add(FieldError(.required, "\(p).accessModes", "at least 1 access mode is required")) }
        for mode in modes { oneOf(mode, "\(p).accessModes", Self.accessModes) }
        if s?.resources?.requests?["storage"] == nil { add(FieldError(.required, "\(p).resources[storage]")) }
        oneOf(s?.volumeMode, "\(p).volumeMode", ["Block", "Filesystem"])
    }

    mutating func volume(_ s: PersistentVolumeSpec?) {
        let modes = s?.accessModes ?? []
        if modes.isEmpty { add(FieldError(.required, "spec.accessModes", "must specify at least 1 access mode")) }
        for mode in modes { oneOf(mode, "spec.accessModes", Self.accessModes) }
        if s?.capacity?["storage"] == nil { add(FieldError(.required, "spec.capacity", "must specify storage")) }
        oneOf(s?.persistentVolumeReclaimPolicy, "spec.persistentVolumeReclaimPolicy", ["Delete", "Recycle", "Retain"])
        let sources: [JSONValue?] = [s?.hostPath, s?.local, s?.nfs, s?.csi, s?.iscsi, s?.fc, s?.rbd, s?.cephfs, s?.glusterfs,
                                     s?.awsElasticBlockStore, s?.gcePersistentDisk, s?.azureDisk, s?.azureFile, s?.vsphereVolume]
        if sources.allSatisfy({ $0 == nil }) { add(FieldError(.required, "spec", "must specify a volume type")) }
    }

    mutating func storageClass(_ sc: StorageClass) {
        if sc.provisioner.isEmpty { add(FieldError(.required, "provisioner")) }
        oneOf(sc.reclaimPolicy, "reclaimPolicy", ["Delete", "Retain"])
        oneOf(sc.volumeBindingMode, "volumeBindingMode", ["Immediate", "WaitForFirstConsumer"])
    }

    mutating func ingress(_ s: IngressSpec?) {
        for (i, rule) in (s?.rules ?? []).enumerated() {
            for (j, path) in (rule.http?.paths ?? []).enumerated() {
                let p = "spec.rules[\(i)].http.paths[\(j)]"
                if path.pathType == nil { add(FieldError(.required, "\(p).pathType", "pathType must be specified")) }
                oneOf(path.pathType, "\(p).pathType", ["Exact", "ImplementationSpecific", "Prefix"])
                if path.pathType != "ImplementationSpecific", let text = path.path, !text.hasPrefix("/") {
                    add(FieldError(.invalid, "\(p).path", value: FieldError.quoted(text), "must be an absolute path"))
                }
                if path.backend.service == nil, path.backend.resource == nil {
                    add(FieldError(.invalid, "\(p).backend", value: nil, "resource or service must be specified"))
                }
            }
        }
    }
}
