import ClusterModel
import Journal

/// kube-apiserver's Priority admission: a new pod gets the `priority` and `preemptionPolicy` of the
/// PriorityClass it names — or, naming none, of the class marked `globalDefault` (the lowest such,
/// should there be several), else priority 0 and `PreemptLowerPriority`. The classes
/// `system-cluster-critical` and `system-node-critical` are built in.
extension Store {
    static let defaultPreemptionPolicy = "PreemptLowerPriority"

    /// `pod` admitted: its priority fields resolved, or a 403 as kube-apiserver words it.
    func admitPriority(_ pod: Pod) throws(StatusError) -> Pod {
        var pod = pod
        let name = pod.metadata.name ?? pod.metadata.generateName ?? ""
        func forbidden(_ why: String) -> StatusError {
            StatusError(.forbidden, "pods \"\(name)\" is forbidden: \(why)", name: name, kind: "pods")
        }
        var className = pod.spec.priorityClassName ?? ""
        var value: Int32 = 0
        var policy = Self.defaultPreemptionPolicy
        if className.isEmpty {
            let defaults = priorityClasses().filter { $0.globalDefault == true }
            if let chosen = defaults.min(by: { ($0.value, $0.metadata.name ?? "") < ($1.value, $1.metadata.name ?? "") }) {
                className = chosen.metadata.name ?? ""
                value = chosen.value
                policy = chosen.preemptionPolicy ?? policy
            }
        } else if let builtIn = PriorityClass.systemClasses[className] {
            value = builtIn
        } else if let found = current(ObjectKey(kind: PriorityClass.kind, name: className))?.0 as? PriorityClass {
            value = found.value
            policy = found.preemptionPolicy ?? policy
        } else {
            throw forbidden("no PriorityClass with name \(className) was found")
        }
        if let given = pod.spec.priority, given != value {
            throw forbidden("the integer value of priority (\(given)) must not be provided in pod spec; priority admission controller computed \(value) from the given PriorityClass name")
        }
        if let given = pod.spec.preemptionPolicy, given != policy {
            throw forbidden("the string value of PreemptionPolicy (\(given)) must not be provided in pod spec; priority admission controller computed \(policy) from the given PriorityClass name")
        }
        if !className.isEmpty { pod.spec.priorityClassName = className }
        pod.spec.priority = value
        pod.spec.preemptionPolicy = policy
        return pod
    }

    /// The PriorityClass objects, by name.
    func priorityClasses() -> [PriorityClass] {
        state.list(.priorityClass).compactMap { current($0.key)?.0 as? PriorityClass }
    }
}
