import ClusterModel
import ControlPlane
import Journal

/// Moving through a journal one event at a time, as `kj debug` does: where a position is, what the
/// event there changed, which events a breakpoint stops at, and the chain of causes behind one.
public enum TimeTravel {
    /// What stops `continue` and `reverse-continue`.
    public enum Breakpoint: Sendable, Equatable, CustomStringConvertible {
        /// Any event about the object.
        case object(ObjectKey)
        /// Events of a type (`SchedulingDecided`).
        case type(String)
        /// Events by an actor: `kind/name`, or a name alone (`node-lifecycle`, `alice`).
        case actor(String)
        /// A write to `object` that changes the field at `path` (`status.phase`).
        case field(ObjectKey, path: String)

        public var description: String {
            switch self {
            case .object(let k): "events about \(k)"
            case .type(let t): "type=\(t)"
            case .actor(let a): "actor=\(a)"
            case .field(let k, let p): "field=\(p) of \(k)"
            }
        }

        /// Whether the event at `e` hits this breakpoint (`view` for a field's previous value).
        public func hits(_ e: Event, in view: JournalView) throws -> Bool {
            switch self {
            case .object(let key): return e.object.key == key
            case .type(let t): return e.type == t
            case .actor(let a): return e.actor.description == a || e.actor.name == a
            case .field(let key, let path):
                guard e.object.key == key, let change = try TimeTravel.changes(at: e, in: view) else { return false }
                if e.type == WriteType.created.rawValue { return TimeTravel.value(at: path, in: try e.shownData()) != nil }
                return change.contains { $0.path == path || $0.path.hasPrefix(path + ".") || $0.path.hasPrefix(path + "[") }
            }
        }
    }

    /// The field changes a write made to its object (nil for an event that is not a write).
    public static func changes(at e: Event, in view: JournalView) throws -> [FieldChange]? {
        guard let type = WriteType(rawValue: e.type) else { return nil }
        let new = type == .deleted ? nil : try e.shownData()
        var old: JSONValue?
        if type != .created {
            for r in try view.history(of: e.object.key).reversed() where r < e.revision {
                guard let before = try view.event(at: r), let t = WriteType(rawValue: before.type) else { continue }
                if t != .deleted { old = try before.shownData() }
                break
            }
        }
        if type == .deleted { return [] }
        return FieldDiff.changes(from: old, to: new)
    }

    /// The value at a dotted path (`status.phase`) of an object, if it has one.
    static func value(at path: String, in object: JSONValue) -> JSONValue? {
        var v: JSONValue? = object
        for part in path.split(separator: ".") { v = v?[String(part)] }
        return v
    }

    /// The first revision after (or, `backward`, before) `revision` at which any breakpoint hits,
    /// up to `head`.
    public static func search(from revision: UInt64, backward: Bool, head: UInt64, breakpoints: [Breakpoint], in view: JournalView) throws -> (UInt64, Breakpoint)? {
        guard !breakpoints.isEmpty else { return nil }
        // Breakpoints on objects read only those objects' histories; the others scan the events.
        let keyed = breakpoints.compactMap { b -> (ObjectKey, Breakpoint)? in
            switch b {
            case .object(let k), .field(let k, _): (k, b)
            case .type, .actor: nil
            }
        }
        if keyed.count == breakpoints.count {
            var best: (UInt64, Breakpoint)?
            for (key, b) in keyed {
                let revisions = try view.history(of: key)
                let candidates = backward ? revisions.filter { $0 < revision }.reversed() : revisions.filter { $0 > revision && $0 <= head }
                for r in candidates {
                    guard let e = try view.event(at: r), try b.hits(e, in: view) else { continue }
                    if best == nil || (backward ? r > best!.0 : r < best!.0) { best = (r, b) }
                    break
                }
            }
            return best
        }
        var found: (UInt64, Breakpoint)?
        let range: ClosedRange<UInt64>? = backward ? (revision > 1 ? 1...(revision - 1) : nil) : (revision < head ? (revision + 1)...head : nil)
        guard let range else { return nil }
        try view.forEach(in: range, reverse: backward) { e in
            if let b = try breakpoints.first(where: { try $0.hits(e, in: view) }) {
                found = (e.revision, b)
                return false
            }
            return true
        }
        return found
    }

    /// The chain of causes behind the event at `revision`: its cause, that event's cause …, and a
    /// decision's trigger, nearest first (at most `limit`).
    public static func causes(of revision: UInt64, in view: JournalView, limit: Int = 12) throws -> [Event] {
        var chain: [Event] = []
        var next = try view.event(at: revision).flatMap { $0.cause ?? $0.trigger }
        while let r = next, chain.count < limit, let e = try view.event(at: r) {
            chain.append(e)
            next = e.cause ?? e.trigger
        }
        return chain
    }
}
