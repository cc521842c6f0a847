import ClusterModel
import ControlPlane
import Foundation
import Journal

/// The scheduler's profiles in the journal. kube-scheduler's default profile is known to every kj
/// by its digest; any other profile the scheduler runs is journalled once, as a
/// `SchedulerConfigured` event about `SchedulerProfile/<schedulerName>` holding its whole
/// configuration, before its first decision — so `kj why --full` can re-run a decision with
/// exactly the profile that made it.
public enum SchedulerConfigurations {
    /// The event type.
    public static let configured = "SchedulerConfigured"
    /// The kind of the object the events are about.
    public static let objectKind = "SchedulerProfile"

    static func key(_ schedulerName: String) -> ObjectKey { ObjectKey(kind: objectKind, namespace: "", name: schedulerName) }

    /// Whether `profile` needs no event: kube-scheduler's default profile under its own name.
    static func isKnown(_ profile: ProfileConfiguration) -> Bool {
        profile.digest == ProfileConfiguration.kubeDefault(profile.schedulerName).digest
    }

    /// The digest of the latest `SchedulerConfigured` event about `schedulerName`.
    static func recordedDigest(_ schedulerName: String, in view: JournalView) throws -> String? {
        for r in try view.history(of: key(schedulerName)).reversed() {
            if let e = try view.event(at: r), e.type == configured { return try JSONValue.parse(e.data)["digest"]?.stringValue }
        }
        return nil
    }

    /// The event that journals `profile`.
    static func draft(_ profile: ProfileConfiguration, time: Timestamp, actor: Actor) -> EventDraft {
        var data = Data(#"{"digest":""#.utf8) + Data(profile.digest.utf8) + Data(#"","configuration":"#.utf8)
        data += profile.canonicalJSON + Data("}".utf8)
        return EventDraft(time: time, type: configured, actor: actor,
                          object: ObjectRef(kind: objectKind, name: profile.schedulerName), data: [UInt8](data))
    }

    /// The profile a decision names: kube-scheduler's default for its digest (or for decisions
    /// recorded before profiles were), else the latest journalled configuration with that digest
    /// before `revision`.
    public static func profile(named name: String?, digest: String?, before revision: UInt64, in view: JournalView) throws -> SchedulerProfile {
        let name = name ?? SchedulerProfile.defaultName
        let standard = ProfileConfiguration.kubeDefault(name)
        guard let digest, digest != standard.digest else { return SchedulerProfile(standard) }
        for r in try view.history(of: key(name)).reversed() where r < revision {
            guard let e = try view.event(at: r), e.type == configured else { continue }
            let data = try JSONValue.parse(e.data)
            guard data["digest"]?.stringValue == digest, let configuration = data["configuration"] else { continue }
            let bytes = Data(configuration.serialized())
            return SchedulerProfile(try JSONDecoder().decode(ProfileConfiguration.self, from: bytes))
        }
        throw SchedulerConfigurationError(path: "", message: "the configuration of profile \(name) (\(digest)) is not in the journal before revision \(revision)")
    }
}
