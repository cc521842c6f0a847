import ClusterModel
import Journal

/// A decision's `data`, typed: what a component writes and what every reader (queries, resuming
/// components, replays) reads back. The field names are the journal's; encoding a value gives the
/// bytes the journal holds, and decoding tolerates what older journals wrote.
public protocol DecisionData: Codable, Sendable {
    /// The event type of decisions carrying this data.
    static var eventType: String { get }
}

extension DecisionData {
    /// Reads the data of `event` as this type (nil when it is another type's, or unreadable).
    public static func from(_ event: Event) -> Self? {
        guard event.type == eventType, let json = try? JSONValue.parse(event.data) else { return nil }
        return try? ValueDecoder(strict: false).decode(Self.self, from: json)
    }

    /// The data as the journal holds it.
    public var json: JSONValue { (try? ValueEncoder().encode(self)) ?? .object([:]) }
}

/// A name from a fixed vocabulary that older or newer journals may extend: compared by its text,
/// read back whatever it says.
public protocol DecisionAction: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral where RawValue == String {
    init(rawValue: String)
}

extension DecisionAction {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
    public init(from decoder: any Decoder) throws { self.init(rawValue: try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// `KubeletDecided`: a simulated kubelet registering its node or moving a pod through its life.
public struct KubeletDecision: DecisionData, Equatable {
    public static let eventType = DecisionType.kubelet

    public struct Action: DecisionAction {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The kubelet registers its node (`re-register`: after a crash).
        public static let register: Action = "register", reRegister: Action = "re-register"
        /// The pod's containers start (pulling the image first if needed).
        public static let start: Action = "start"
        /// A container exited and restartPolicy restarts it after a CrashLoopBackOff delay.
        public static let backoff: Action = "backoff"
        public static let restart: Action = "restart"
        /// A container exited and is not restarted.
        public static let completed: Action = "completed"
        /// Graceful termination begins; `preStop` runs the hook first.
        public static let terminate: Action = "terminate", preStop: Action = "preStop"
        public static let sigterm: Action = "SIGTERM", sigkill: Action = "SIGKILL"
        /// The containers are down: the pod is removed.
        public static let remove: Action = "remove"
    }

    public var action: Action
    /// The kubelet's node (absent in registrations, which are about the Node itself).
    public var node: String?
    /// register, re-register: seconds between heartbeats.
    public var heartbeatSeconds: Int64?
    /// start: the containers and whether the image was on the node.
    public var containers: [String]?
    public var imagePresent: Bool?
    /// backoff, completed, remove: the exit code; backoff, restart: the restart count.
    public var exitCode: Int64?
    public var restartCount: Int64?
    /// backoff: the CrashLoopBackOff delay; backoff, completed: the pod's restartPolicy.
    public var backoffSeconds: Int64?
    public var restartPolicy: String?
    /// terminate: the grace period, its end (RFC 3339) and how long preStop may run.
    public var gracePeriodSeconds: Int64?
    public var deadline: String?
    public var preStopSeconds: Double?
    /// preStop: how long the hook runs.
    public var seconds: Double?
    /// SIGTERM: whether the container ignores it.
    public var ignored: Bool?
    /// SIGKILL: seconds since termination began.
    public var afterSeconds: Double?

    public init(_ action: Action, node: String? = nil) {
        self.action = action
        self.node = node
    }
}
