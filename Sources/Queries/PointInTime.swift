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

    /// The revision this point names in `view`. A point outside the journal — a revision beyond its
    /// last event, a time before its first event or after its last — is a `QueryError` saying so,
    /// never quietly the nearest end.
    public func revision(in view: JournalView) throws -> UInt64 {
        let head = try view.head()
        guard head.revision > 0, let first = try view.event(at: 1) else { throw QueryError.invalid("the journal is empty: no point in it can be shown") }
        let last = "revision \(head.revision) at \(head.time.rfc3339)"
        switch value {
        case .revision(let r):
            guard r >= 1 else { throw QueryError.invalid("revisions start at 1") }
            guard r <= head.revision else { throw QueryError.invalid("revision \(r) is beyond the journal's last event (\(last))") }
            return r
        case .time(let t):
            guard t <= head.time else { throw QueryError.invalid("\(text) is after the journal's last event (\(last))") }
            return try revision(atOrBefore: t, first: first, in: view)
        case .beforeHead(let d):
            return try revision(atOrBefore: head.time.adding(microseconds: -d), first: first, in: view)
        }
    }

    private func revision(atOrBefore t: Timestamp, first: Event, in view: JournalView) throws -> UInt64 {
        guard let r = try view.revision(atOrBefore: t) else {
            throw QueryError.invalid("\(text) is before the journal's first event (revision 1 at \(first.time.rfc3339))")
        }
        return r
    }
}
