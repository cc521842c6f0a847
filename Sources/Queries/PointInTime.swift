import Journal

/// A point in the journal named by a revision, a time, or a duration before the last event.
public struct PointInTime: Sendable {
    public enum Value: Sendable { case revision(UInt64), time(Timestamp), beforeHead(Int64) }
    public let value: Value
    /// As the user wrote it.
    public let text: String

    /// `1200` (a revision), `2026-11-22T10:00:00Z` (a time) or `-5m`/`5m` (before the journal's last event).
    public init?(_ argument: String) {
        text = argument
        if let r = UInt64(argument) {
            value = .revision(r)
        } else if let t = Timestamp(rfc3339: argument) {
            value = .time(t)
        } else if let micros = Self.duration(argument.hasPrefix("-") ? String(argument.dropFirst()) : argument) {
            // `-5m`, or `5m` where a leading - would read as an option (`kj diff 10m 5m`).
            value = .beforeHead(micros)
        } else {
            return nil
        }
    }

    /// `90s`, `5m`, `1h30m`, `2d` in microseconds.
    public static func duration(_ s: String) -> Int64? { Timestamp.duration(s) }

    /// The revision this point names in `view` (nil: before the first event).
    public func revision(in view: JournalView) throws -> UInt64? {
        switch value {
        case .revision(let r): return min(r, try view.head().revision)
        case .time(let t): return try view.revision(atOrBefore: t)
        case .beforeHead(let d): return try view.revision(atOrBefore: view.head().time.adding(microseconds: -d))
        }
    }
}
