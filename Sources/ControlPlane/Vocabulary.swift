import ClusterModel
import Journal

/// The write events the projection folds: one per successful API write.
public enum WriteType: String, Sendable, CaseIterable {
    /// A new object (data: the object).
    case created = "Created"
    /// Spec or metadata replaced or patched (data: the object after the write).
    case updated = "Updated"
    /// The status subresource written (data: the object after the write).
    case statusUpdated = "StatusUpdated"
    /// `pods/binding`: `spec.nodeName` set (data: the pod after the write).
    case bound = "Bound"
    /// Graceful deletion began: deletionTimestamp and grace period set (data: the object after).
    case deletionStarted = "DeletionStarted"
    /// The object is gone (data: the object as it was last).
    case deleted = "Deleted"
}

/// Facts about the cluster itself, recorded once at the start of a journal.
public enum ClusterEventType {
    /// Revision 1 of every cluster journal: the seed of every generated id and tie-break.
    public static let initialized = "ClusterInitialized"
    /// A control plane (`kj serve`) started on the journal: when, with which nodes, how long after
    /// the journal's last event, and whether the run before it ended cleanly.
    public static let controlPlaneStarted = "ControlPlaneStarted"
}

/// Requests the API server answered without a write.
public enum RequestEventType {
    /// A request the API server refused (`responseStatus.code` ≥ 400 in an audit log): part of an
    /// incident, but it changed nothing, so the projection ignores it.
    public static let refused = "RequestRefused"
}

/// What `kj record` journals about its own view of the recorded cluster.
public enum RecordEventType {
    /// One kind listed in full (when recording starts, and again when a watch could not resume):
    /// the objects the list shows new or changed are journalled as writes of their own, and those
    /// it no longer has as deleted while unseen. The projection ignores it.
    public static let listed = "Listed"
}

/// Where an imported journal's writes come from (`ClusterInitialized.importedFrom`).
public enum JournalSource {
    /// A cluster's audit logs (`kj import audit`).
    public static let auditLog = "audit.k8s.io"
    /// A live API server listed and watched (`kj record`).
    public static let watch = "watch"

    /// The record a journal of `source` was made from, as explanations name it: "the audit.k8s.io
    /// log", "the recorded watch".
    public static func record(_ source: String) -> String { source == watch ? "the recorded watch" : "the \(source) log" }
}

extension Actor {
    public static func user(_ name: String) -> Actor { Actor(kind: "user", name: name) }
    public static let bootstrap = Actor(kind: "system", name: "bootstrap")
}

extension Resource {
    /// The journal key of this object: kind, namespace (empty when cluster-scoped) and name.
    public var objectKey: ObjectKey {
        ObjectKey(kind: Self.kind, namespace: Self.namespaced ? (metadata.namespace ?? "") : "", name: metadata.name ?? "")
    }
}

extension ObjectKey {
    /// `pods "nginx"` — how Kubernetes names an object in messages.
    public func described(as kind: ResourceKind) -> String { "\(kind.plural) \"\(name)\"" }
}

extension Timestamp {
    /// Kubernetes' `metav1.Time` text: RFC 3339 with whole seconds. `metav1.Time` holds years 0000
    /// to 9999 only, so a time past them (a deadline computed from an enormous grace period) is
    /// written as the nearest end of that range.
    public var kubernetesTime: String { min(max(self, Self.kubernetesMin), Self.kubernetesMax).rfc3339Seconds }

    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range of a `metav1.Time`.
    public static let kubernetesMin = Timestamp(microseconds: -62_167_219_200_000_000)
    public static let kubernetesMax = Timestamp(microseconds: 253_402_300_799_000_000)
}
