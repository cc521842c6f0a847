import Foundation

/// kubectl's columns for each kind — what `kubectl get` prints, and what the API serves as a
/// `Table` (`as=Table`). Cells are text; the caller aligns or serializes them.
public struct ResourceTable: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: String
        /// 0 for default columns, 1 for those `-o wide` adds.
        public var priority: Int
        public var description: String
    }

    public var columns: [Column]
    public var rows: [[String]]

    /// The table of `objects` of `kind`, ages measured at `now`.
    public static func make(_ kind: ResourceKind, _ objects: [any Resource], now: Date) -> ResourceTable {
        let definition = kind.definition
        return ResourceTable(columns: definition.columns, rows: objects.map { definition.cells($0, now: now) })
    }

    /// A column of type `type` (`string`, `integer`, `boolean`, `date`); priority 1 is shown by `-o wide` only.
    public static func col(_ name: String, _ priority: Int = 0, _ type: String = "string", _ description: String = "") -> Column {
        Column(name: name, type: type, priority: priority, description: description)
    }

    /// The NAME column every kind starts with.
    public static let name = col("Name", 0, "string", "Name must be unique within a namespace.")
    /// The AGE column.
    public static let ageColumn = col("Age", 0, "string", "CreationTimestamp is a timestamp representing the server time when this object was created.")

    /// Containers, images and selector: the `-o wide` columns of the workload kinds.
    static func workloadWide(_ template: PodTemplateSpec?, _ selector: LabelSelector?) -> [String] {
        let containers = template?.spec.containers ?? []
        return [containers.map(\.name).joined(separator: ","), containers.map { $0.image ?? "" }.joined(separator: ","),
                selector.map { LabelSelectorExpression($0).description } ?? "<none>"]
    }

    /// The STATUS column of `kubectl get pods`.
    public static func podStatus(_ p: Pod) -> String { PodRow(p).status }

    /// kubectl's human durations: `45s`, `5m12s`, `3h`, `2d4h`, `400d`.
    public static func humanDuration(seconds: Int64) -> String {
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 { let d = (hours / 24) % 365; return d == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(d)d" }
        return "\(hours / 24 / 365)y"
    }

    /// The age of an RFC 3339 time at `now` (`<unknown>` if unparseable).
    public static func age(_ time: String?, now: Date) -> String {
        guard let time, let date = parseTime(time) else { return "<unknown>" }
        return humanDuration(seconds: Int64(now.timeIntervalSince(date).rounded(.down)))
    }

    /// Parses Kubernetes times (`2026-01-01T10:00:00Z`, with optional fraction). The format styles
    /// parse in Swift; an `ISO8601DateFormatter` made per call cost ~0.2 ms (ICU set-up), which
    /// was most of `kj get pods` on thousands of pods.
    public static func parseTime(_ s: String) -> Date? {
        (try? wholeSeconds.parse(s)) ?? (try? fractionalSeconds.parse(s))
    }

    private static let wholeSeconds = Date.ISO8601FormatStyle()
    private static let fractionalSeconds = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
