import ClusterModel
import Crypto
import Foundation

/// A scheduling profile as configured: everything that decides where a pod goes, in a canonical,
/// comparable form. Its digest names it in every `SchedulingDecided`, and the configuration is
/// journalled once (`SchedulerConfigured`), so a decision can be re-run with exactly what made it.
public struct ProfileConfiguration: Sendable, Equatable, Codable {
    /// A score plugin and its weight.
    public struct WeightedPlugin: Sendable, Equatable, Codable {
        public var name: String
        public var weight: Int64
    }

    public var schedulerName: String
    /// Filter plugins, in the order they run.
    public var filters: [String]
    /// Score plugins with their weights, in the order they run.
    public var scores: [WeightedPlugin]
    /// Post-filter plugins (DefaultPreemption).
    public var postFilters: [String]
    /// NodeResourcesFit's scoring strategy.
    public var scoringStrategy: ScoringStrategy
    /// PodTopologySpread's default constraints and whether they are the system's.
    public var spreadDefaults: [TopologySpreadConstraint]
    public var spreadSystemDefaulted: Bool
    /// InterPodAffinity's weight for existing pods' required affinity terms (0–100).
    public var hardPodAffinityWeight: Int64
    /// How many nodes to search, in percent (nil: kube-scheduler's adaptive share).
    public var percentageOfNodesToScore: Int64?

    /// kube-scheduler 1.32's default profile, named `schedulerName`.
    public static func kubeDefault(_ schedulerName: String = SchedulerProfile.defaultName) -> ProfileConfiguration {
        ProfileConfiguration(
            schedulerName: schedulerName,
            filters: [PluginName.nodeUnschedulable, PluginName.nodeName, PluginName.taintToleration, PluginName.nodeAffinity,
                      PluginName.nodePorts, PluginName.nodeResourcesFit, PluginName.volumeBinding, PluginName.podTopologySpread,
                      PluginName.interPodAffinity],
            scores: [.init(name: PluginName.taintToleration, weight: 3), .init(name: PluginName.nodeAffinity, weight: 2),
                     .init(name: PluginName.nodeResourcesFit, weight: 1), .init(name: PluginName.podTopologySpread, weight: 2),
                     .init(name: PluginName.interPodAffinity, weight: 2), .init(name: PluginName.nodeResourcesBalancedAllocation, weight: 1),
                     .init(name: PluginName.imageLocality, weight: 1)],
            postFilters: [PluginName.defaultPreemption],
            scoringStrategy: .leastAllocated,
            spreadDefaults: PodTopologySpreadPlugin.systemDefaults,
            spreadSystemDefaulted: true,
            hardPodAffinityWeight: 1,
            percentageOfNodesToScore: nil)
    }

    /// The canonical JSON (sorted keys): what the digest is taken of and what is journalled.
    public var canonicalJSON: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain value types cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }

    /// `sha256:` and the first 16 hex digits of SHA-256 over the canonical JSON.
    public var digest: String {
        "sha256:" + SHA256.hash(data: canonicalJSON).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}

/// A profile ready to run: its configuration and the plugins it names.
public struct SchedulerProfile: Sendable {
    public static let defaultName = "default-scheduler"
    /// kube-scheduler 1.32's default profile.
    public static let kubeDefault = SchedulerProfile(.kubeDefault())

    public let configuration: ProfileConfiguration
    public let digest: String
    let filters: [any FilterPlugin]
    let scorers: [(plugin: any ScorePlugin, weight: Int64)]

    public var schedulerName: String { configuration.schedulerName }
    public var preemption: Bool { configuration.postFilters.contains(PluginName.defaultPreemption) }

    /// Builds the plugins a configuration names (names were checked when it was read).
    public init(_ configuration: ProfileConfiguration) {
        self.configuration = configuration
        digest = configuration.digest
        let fit = NodeResourcesFitPlugin(strategy: configuration.scoringStrategy)
        let spread = PodTopologySpreadPlugin(defaultConstraints: configuration.spreadDefaults, systemDefaulted: configuration.spreadSystemDefaulted)
        let interPod = InterPodAffinityPlugin(hardPodAffinityWeight: configuration.hardPodAffinityWeight)
        func filter(_ name: String) -> (any FilterPlugin)? {
            switch name {
            case PluginName.nodeUnschedulable: NodeUnschedulablePlugin()
            case PluginName.nodeName: NodeNamePlugin()
            case PluginName.taintToleration: TaintTolerationPlugin()
            case PluginName.nodeAffinity: NodeAffinityPlugin()
            case PluginName.nodePorts: NodePortsPlugin()
            case PluginName.nodeResourcesFit: fit
            case PluginName.volumeBinding: VolumeBindingPlugin()
            case PluginName.podTopologySpread: spread
            case PluginName.interPodAffinity: interPod
            default: nil
            }
        }
        func scorer(_ name: String) -> (any ScorePlugin)? {
            switch name {
            case PluginName.taintToleration: TaintTolerationPlugin()
            case PluginName.nodeAffinity: NodeAffinityPlugin()
            case PluginName.nodeResourcesFit: fit
            case PluginName.podTopologySpread: spread
            case PluginName.interPodAffinity: interPod
            case PluginName.nodeResourcesBalancedAllocation: BalancedAllocationPlugin()
            case PluginName.imageLocality: ImageLocalityPlugin()
            default: nil
            }
        }
        filters = configuration.filters.compactMap(filter)
        scorers = configuration.scores.compactMap { p in scorer(p.name).map { ($0, p.weight) } }
    }

    /// The plugins that can filter, and that can score, by name.
    public static let filterPlugins: Set<String> = [PluginName.nodeUnschedulable, PluginName.nodeName, PluginName.taintToleration, PluginName.nodeAffinity,
                                                    PluginName.nodePorts, PluginName.nodeResourcesFit, PluginName.volumeBinding,
                                                    PluginName.podTopologySpread, PluginName.interPodAffinity]
    public static let scorePlugins: Set<String> = [PluginName.taintToleration, PluginName.nodeAffinity, PluginName.nodeResourcesFit, PluginName.podTopologySpread,
                                                   PluginName.interPodAffinity, PluginName.nodeResourcesBalancedAllocation, PluginName.imageLocality]
    public static let postFilterPlugins: Set<String> = [PluginName.defaultPreemption]
}
