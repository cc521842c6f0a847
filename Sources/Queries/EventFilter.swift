import Journal

/// Which events `kj events` shows: each field narrows the selection; nil fields select all.
public struct EventFilter: Sendable {
    public var kind: String?
    public var name: String?
    public var namespace: String?
    /// `alice`, `user/alice`, `kubelet`, `kubelet/node-1`.
    public var actor: String?
    /// Event types, any of which matches (`Created`, `SchedulingDecided` …).
    public var types: [String] = []
    public var fromRevision: UInt64?
    public var toRevision: UInt64?
    public var since: Timestamp?
    public var until: Timestamp?

    public init() {}

    public func matches(_ h: EventHeader) -> Bool {
        if let kind, !Self.sameIgnoringCase(h.object.kind, kind) { return false }
        if let name, h.object.name != name { return false }
        if let namespace, h.object.namespace != namespace { return false }
        if !types.isEmpty, !types.contains(where: { Self.sameIgnoringCase($0, h.type) }) { return false }
        if let since, h.time < since { return false }
        if let until, h.time > until { return false }
        if let actor {
            let a = h.actor
            guard actor == a.name || actor == a.kind || actor == a.description else { return false }
        }
        return true
    }

    /// Case-insensitive equality. Kinds and event types are ASCII: those are compared byte by
    /// byte, which a scan does for every event (Foundation's comparison cost half the scan's time).
    static func sameIgnoringCase(_ a: String, _ b: String) -> Bool {
        let folded = a.utf8.elementsEqual(b.utf8) { x, y in x == y || (x | 0x20 == y | 0x20 && (x | 0x20) &- 0x61 < 26) }
        if folded { return true }
        if a.utf8.allSatisfy({ $0 < 0x80 }) && b.utf8.allSatisfy({ $0 < 0x80 }) { return false }
        return a.caseInsensitiveCompare(b) == .orderedSame
    }

    /// Calls `body` with every matching event of `view` in revision order, after `after` (for
    /// following), until it returns false. Uses the object index when kind and name are given,
    /// the time index for `since`, and scans the rest; returns how many events it looked at.
    @discardableResult
    public func forEach(in view: JournalView, after: UInt64 = 0, _ body: (EventHeader) throws -> Bool) throws -> Int {
        let head = try view.head().revision
        var low = max(after + 1, fromRevision ?? 1)
        let high = min(head, toRevision ?? head)
        if let since, let before = try view.revision(atOrBefore: since.adding(microseconds: -1)) { low = max(low, before + 1) }
        guard low <= high else { return 0 }
        var looked = 0
        if let kind, let name, let namespace {
            for rev in try view.history(of: ObjectKey(kind: kind, namespace: namespace, name: name)) where rev >= low && rev <= high {
                var keepGoing = true
                try view.forEachHeader(in: rev...rev) { h in
                    looked += 1
                    if matches(h) { keepGoing = try body(h) }
                    return false
                }
                if !keepGoing { break }
            }
            return looked
        }
        try view.forEachHeader(in: low...high) { h in
            looked += 1
            if let until, h.time > until { return false }
            return matches(h) ? try body(h) : true
        }
        return looked
    }
}
