import ClusterModel

/// A `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`) that could not be used: the
/// path of the offending field and what is wrong with it, worded as kube-scheduler words it
/// (`profiles[0].pluginConfig[0].args.scoringStrategy.type: Unsupported value: "Fewest"`).
public struct SchedulerConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var message: String
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Reads kube-scheduler's configuration file into profiles, as kube-scheduler merges a profile's
/// plugin sets into its default profile: per extension point, the defaults minus `disabled`
/// (`*` disables them all), a default that is enabled again keeps its place with the new weight,
/// other enabled plugins follow; `multiPoint` applies to every point a plugin implements.
public enum SchedulerConfiguration {
    public static let apiVersion = "kubescheduler.config.k8s.io/v1"

    /// The default plugins kube-scheduler has that act on what kj does not model (volumes, scheduling
    /// gates, the queue's sort, binding): they may be named, enabled or disabled, and change nothing.
    static let inertPlugins: Set<String> = ["PrioritySort", "SchedulingGates", "DefaultBinder", "VolumeRestrictions",
                                            "NodeVolumeLimits", "VolumeZone"]

    /// The profiles a YAML or JSON `KubeSchedulerConfiguration` describes.
    public static func profiles(yaml text: String) throws(SchedulerConfigurationError) -> [ProfileConfiguration] {
        let docs: [JSONValue]
        do { docs = try Manifest.documents(text) } catch { throw SchedulerConfigurationError(path: "", message: "\(error)") }
        guard docs.count == 1, let doc = docs.first else {
            throw SchedulerConfigurationError(path: "", message: "expected one KubeSchedulerConfiguration document, found \(docs.count)")
        }
        return try profiles(doc)
    }

    /// The profiles of a decoded configuration document.
    public static func profiles(_ doc: JSONValue) throws(SchedulerConfigurationError) -> [ProfileConfiguration] {
        let root = try Fields(doc, path: "")
        try root.allow(["apiVersion", "kind", "profiles", "percentageOfNodesToScore", "parallelism", "leaderElection", "clientConnection",
                        "healthzBindAddress", "metricsBindAddress", "enableProfiling", "enableContentionProfiling",
                        "podInitialBackoffSeconds", "podMaxBackoffSeconds", "extenders", "delayCacheUntilActive"])
        guard let apiVersion = try root.string("apiVersion"), apiVersion == Self.apiVersion else {
            throw root.invalid("apiVersion", "Unsupported value: \(root.raw("apiVersion")): supported values: \"\(Self.apiVersion)\"")
        }
        guard try root.string("kind") == "KubeSchedulerConfiguration" else {
            throw root.invalid("kind", "Unsupported value: \(root.raw("kind")): supported values: \"KubeSchedulerConfiguration\"")
        }
        if let extenders = root.value("extenders")?.arrayValue, !extenders.isEmpty {
            throw root.invalid("extenders", "Forbidden: scheduler extenders are not supported by kj")
        }
        let globalPercentage = try root.percentage("percentageOfNodesToScore")
        let profileValues = root.value("profiles")?.arrayValue ?? [.object([:])]
        var result: [ProfileConfiguration] = []
        var names = Set<String>()
        for (i, value) in profileValues.enumerated() {
            let profile = try Self.profile(Fields(value, path: "profiles[\(i)]"), globalPercentage: globalPercentage)
            guard names.insert(profile.schedulerName).inserted else {
                throw SchedulerConfigurationError(path: "profiles[\(i)].schedulerName", message: "Duplicate value: \"\(profile.schedulerName)\"")
            }
            result.append(profile)
        }
        guard !result.isEmpty else { throw SchedulerConfigurationError(path: "profiles", message: "Required value: at least one profile is required") }
        return result
    }

    static func profile(_ f: Fields, globalPercentage: Int64?) throws(SchedulerConfigurationError) -> ProfileConfiguration {
        try f.allow(["schedulerName", "plugins", "pluginConfig", "percentageOfNodesToScore"])
        let name = try f.string("schedulerName") ?? SchedulerProfile.defaultName
        guard !name.isEmpty else { throw f.invalid("schedulerName", "Required value") }
        var config = ProfileConfiguration.kubeDefault(name)
        config.percentageOfNodesToScore = try f.percentage("percentageOfNodesToScore") ?? globalPercentage
        if let plugins = f.value("plugins") { try merge(Fields(plugins, path: f.path("plugins")), into: &config) }
        var configured = Set<String>()
        for (i, value) in (f.value("pluginConfig")?.arrayValue ?? []).enumerated() {
            let entry = try Fields(value, path: f.path("pluginConfig[\(i)]"))
            try entry.allow(["name", "args"])
            guard let plugin = try entry.string("name"), !plugin.isEmpty else { throw entry.invalid("name", "Required value") }
            guard configured.insert(plugin).inserted else { throw entry.invalid("name", "Duplicate value: \"\(plugin)\"") }
            let args = try Fields(entry.value("args") ?? .object([:]), path: entry.path("args"))
            try applyArgs(plugin, args, to: &config)
        }
        return config
    }

    /// The extension points kj runs, and the ones whose only default plugins are inert.
    static let points = ["multiPoint", "preEnqueue", "queueSort", "preFilter", "filter", "postFilter", "preScore", "score",
                         "reserve", "permit", "preBind", "bind", "postBind"]

    static func merge(_ f: Fields, into config: inout ProfileConfiguration) throws(SchedulerConfigurationError) {
        try f.allow(Set(points))
        for point in points {
            guard let value = f.value(point) else { continue }
            let set = try Fields(value, path: f.path(point))
            try set.allow(["enabled", "disabled"])
            var disabled = Set<String>()
            for (i, v) in (set.value("disabled")?.arrayValue ?? []).enumerated() {
                let p = try Fields(v, path: set.path("disabled[\(i)]"))
                try p.allow(["name", "weight"])
                guard let name = try p.string("name") else { throw p.invalid("name", "Required value") }
                if name != "*" { try known(name, p) }
                disabled.insert(name)
            }
            var enabled: [(name: String, weight: Int64?)] = []
            for (i, v) in (set.value("enabled")?.arrayValue ?? []).enumerated() {
                let p = try Fields(v, path: set.path("enabled[\(i)]"))
                try p.allow(["name", "weight"])
                guard let name = try p.string("name") else { throw p.invalid("name", "Required value") }
                try known(name, p)
                let weight = try p.int("weight")
                if let weight, !(0...100).contains(weight) { throw p.invalid("weight", "Invalid value: \(weight): must be in the range 0-100") }
                enabled.append((name, weight == 0 ? nil : weight))
            }
            let all = disabled.contains("*")
            func keep(_ name: String) -> Bool { !all && !disabled.contains(name) }
            let wantsFilter = point == "multiPoint" || point == "filter" || point == "preFilter"
            let wantsScore = point == "multiPoint" || point == "score" || point == "preScore"
            if wantsFilter {
                var filters = config.filters.filter(keep)
                for p in enabled where SchedulerProfile.filterPlugins.contains(p.name) && !filters.contains(p.name) { filters.append(p.name) }
                config.filters = filters
            }
            if wantsScore {
                var scores = config.scores.filter { keep($0.name) }
                for p in enabled where SchedulerProfile.scorePlugins.contains(p.name) {
                    if let i = scores.firstIndex(where: { $0.name == p.name }) {
                        if let w = p.weight { scores[i].weight = w }
                    } else {
                        scores.append(.init(name: p.name, weight: p.weight ?? 1))
                    }
                }
                config.scores = scores
            }
            if point == "multiPoint" || point == "postFilter" {
                var post = config.postFilters.filter(keep)
                for p in enabled where SchedulerProfile.postFilterPlugins.contains(p.name) && !post.contains(p.name) { post.append(p.name) }
                config.postFilters = post
            }
        }
    }

    static func known(_ name: String, _ f: Fields) throws(SchedulerConfigurationError) {
        let all = SchedulerProfile.filterPlugins.union(SchedulerProfile.scorePlugins).union(SchedulerProfile.postFilterPlugins).union(inertPlugins)
        guard all.contains(name) else {
            throw f.invalid("name", "Invalid value: \"\(name)\": no such plugin in kj (it has \(all.sorted().joined(separator: ", ")))")
        }
    }

    static func applyArgs(_ plugin: String, _ args: Fields, to config: inout ProfileConfiguration) throws(SchedulerConfigurationError) {
        switch plugin {
        case PluginName.nodeResourcesFit:
            try args.allow(["apiVersion", "kind", "scoringStrategy", "ignoredResources", "ignoredResourceGroups"])
            guard let strategyValue = args.value("scoringStrategy") else { return }
            let s = try Fields(strategyValue, path: args.path("scoringStrategy"))
            try s.allow(["type", "resources", "requestedToCapacityRatio"])
            let typeName = try s.string("type") ?? ScoringStrategy.Kind.leastAllocated.rawValue
            guard let type = ScoringStrategy.Kind(rawValue: typeName) else {
                throw s.invalid("type", "Unsupported value: \"\(typeName)\": supported values: " + ScoringStrategy.Kind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
            }
            var strategy = ScoringStrategy(type: type, resources: ScoringStrategy.leastAllocated.resources, shape: [])
            if let resources = s.value("resources")?.arrayValue {
                strategy.resources = []
                for (i, v) in resources.enumerated() {
                    let r = try Fields(v, path: s.path("resources[\(i)]"))
                    try r.allow(["name", "weight"])
                    guard let name = try r.string("name"), !name.isEmpty else { throw r.invalid("name", "Required value") }
                    guard ["cpu", "memory"].contains(name) else { throw r.invalid("name", "Unsupported value: \"\(name)\": supported values: \"cpu\", \"memory\"") }
                    let weight = try r.int("weight") ?? 1
                    guard (1...100).contains(weight) else { throw r.invalid("weight", "Invalid value: \(weight): resource weight of \(name) not in valid range [1, 100]") }
                    strategy.resources.append(.init(name: name, weight: weight))
                }
            }
            if type == .requestedToCapacityRatio {
                guard let rtcr = s.value("requestedToCapacityRatio") else { throw s.invalid("requestedToCapacityRatio", "Required value") }
                let r = try Fields(rtcr, path: s.path("requestedToCapacityRatio"))
                try r.allow(["shape"])
                let shape = r.value("shape")?.arrayValue ?? []
                guard !shape.isEmpty else { throw r.invalid("shape", "Required value: at least one point must be specified") }
                for (i, v) in shape.enumerated() {
                    let p = try Fields(v, path: r.path("shape[\(i)]"))
                    try p.allow(["utilization", "score"])
                    let u = try p.int("utilization") ?? 0, sc = try p.int("score") ?? 0
                    guard (0...100).contains(u) else { throw p.invalid("utilization", "Invalid value: \(u): not in valid range [0, 100]") }
                    guard (0...10).contains(sc) else { throw p.invalid("score", "Invalid value: \(sc): not in valid range [0, 10]") }
                    if let last = strategy.shape.last, u <= last.utilization {
                        throw p.invalid("utilization", "Invalid value: \(u): utilization values must be sorted in increasing order")
                    }
                    strategy.shape.append(.init(utilization: u, score: sc))
                }
            } else if s.value("requestedToCapacityRatio") != nil {
                throw s.invalid("requestedToCapacityRatio", "Forbidden: only for the RequestedToCapacityRatio type")
            }
            config.scoringStrategy = strategy
        case PluginName.podTopologySpread:
            try args.allow(["apiVersion", "kind", "defaultConstraints", "defaultingType"])
            let defaulting = try args.string("defaultingType") ?? "System"
            guard ["System", "List"].contains(defaulting) else {
                throw args.invalid("defaultingType", "Unsupported value: \"\(defaulting)\": supported values: \"List\", \"System\"")
            }
            let values = args.value("defaultConstraints")?.arrayValue ?? []
            if defaulting == "System" {
                guard values.isEmpty else { throw args.invalid("defaultConstraints", "Invalid value: when .defaultingType is \"System\", .defaultConstraints must be empty") }
                config.spreadDefaults = PodTopologySpreadPlugin.systemDefaults
                config.spreadSystemDefaulted = true
                return
            }
            var constraints: [TopologySpreadConstraint] = []
            for (i, v) in values.enumerated() {
                let c = try Fields(v, path: args.path("defaultConstraints[\(i)]"))
                try c.allow(["maxSkew", "topologyKey", "whenUnsatisfiable", "labelSelector", "minDomains", "nodeAffinityPolicy", "nodeTaintsPolicy", "matchLabelKeys"])
                guard c.value("labelSelector") == nil else { throw c.invalid("labelSelector", "Forbidden: constraint must not define a selector, as they deduced for each pod") }
                let maxSkew = try c.int("maxSkew") ?? 0
                guard maxSkew > 0, maxSkew <= Int64(Int32.max) else { throw c.invalid("maxSkew", "Invalid value: \(maxSkew): must be greater than zero") }
                guard let key = try c.string("topologyKey"), !key.isEmpty else { throw c.invalid("topologyKey", "Required value: can not be empty") }
                let when = try c.string("whenUnsatisfiable") ?? ""
                guard ["DoNotSchedule", "ScheduleAnyway"].contains(when) else {
                    throw c.invalid("whenUnsatisfiable", "Unsupported value: \"\(when)\": supported values: \"DoNotSchedule\", \"ScheduleAnyway\"")
                }
                if constraints.contains(where: { $0.topologyKey == key && $0.whenUnsatisfiable == when }) {
                    throw c.invalid("topologyKey", "Duplicate value: \"{\(key), \(when)}\"")
                }
                constraints.append(TopologySpreadConstraint(maxSkew: Int32(maxSkew), topologyKey: key, whenUnsatisfiable: when, labelSelector: nil))
            }
            config.spreadDefaults = constraints
            config.spreadSystemDefaulted = false
        case PluginName.interPodAffinity:
            try args.allow(["apiVersion", "kind", "hardPodAffinityWeight", "ignorePreferredTermsOfExistingPods"])
            let weight = try args.int("hardPodAffinityWeight") ?? 1
            guard (0...100).contains(weight) else { throw args.invalid("hardPodAffinityWeight", "Invalid value: \(weight): not in valid range [0, 100]") }
            config.hardPodAffinityWeight = weight
            if let ignore = args.value("ignorePreferredTermsOfExistingPods"), ignore != .bool(false) {
                throw args.invalid("ignorePreferredTermsOfExistingPods", "Unsupported value: \(Fields.text(ignore)): kj always counts existing pods' preferred terms")
            }
        default:
            throw SchedulerConfigurationError(path: args.path(""), message: "Invalid value: kj has no arguments for plugin \"\(plugin)\"")
        }
    }
}

/// A JSON object being read, with its path for error messages.
struct Fields {
    let members: [String: JSONValue]
    let base: String

    init(_ value: JSONValue, path: String) throws(SchedulerConfigurationError) {
        guard let members = value.objectValue else {
            throw SchedulerConfigurationError(path: path, message: "Invalid value: expected an object")
        }
        self.members = members
        base = path
    }

    func path(_ field: String) -> String {
        if field.isEmpty { return base }
        return base.isEmpty ? field : field.hasPrefix("[") ? base + field : base + "." + field
    }

    func value(_ field: String) -> JSONValue? {
        guard let v = members[field], v != .null else { return nil }
        return v
    }

    func raw(_ field: String) -> String { value(field).map(Self.text) ?? "\"\"" }

    /// A value as JSON text.
    static func text(_ v: JSONValue) -> String { String(decoding: v.serialized(), as: UTF8.self) }

    func invalid(_ field: String, _ message: String) -> SchedulerConfigurationError {
        SchedulerConfigurationError(path: path(field), message: message)
    }

    /// Refuses fields not in `known`, as a strict decoder does.
    func allow(_ known: Set<String>) throws(SchedulerConfigurationError) {
        if let unknown = members.keys.sorted().first(where: { !known.contains($0) }) {
            throw SchedulerConfigurationError(path: path(unknown), message: "unknown field \"\(unknown)\"")
        }
    }

    func string(_ field: String) throws(SchedulerConfigurationError) -> String? {
        guard let v = value(field) else { return nil }
        guard let s = v.stringValue else { throw invalid(field, "Invalid value: \(Self.text(v)): expected a string") }
        return s
    }

    func int(_ field: String) throws(SchedulerConfigurationError) -> Int64? {
        guard let v = value(field) else { return nil }
        guard let i = v.intValue else { throw invalid(field, "Invalid value: \(Self.text(v)): expected an integer") }
        return i
    }

    /// 0–100; 0 (kube-scheduler's "not set") gives nil.
    func percentage(_ field: String) throws(SchedulerConfigurationError) -> Int64? {
        guard let p = try int(field) else { return nil }
        guard (0...100).contains(p) else { throw invalid(field, "Invalid value: \(p): not in valid range [0-100]") }
        return p == 0 ? nil : p
    }
}
