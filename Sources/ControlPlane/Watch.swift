import ClusterModel
import Journal
import Synchronization

/// The newest revision the Store has applied, and a way to wait for the next one.
/// Writers only bump the number; they never wait for readers.
public final class HeadSignal: Sendable {
    private struct State {
        var head: UInt64
        var waiters: [UInt64: (after: UInt64, resume: CheckedContinuation<Void, Never>)] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(head: UInt64) { state = Mutex(State(head: head)) }

    public var head: UInt64 { state.withLock { $0.head } }

    func advance(to revision: UInt64) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.head = max(s.head, revision)
            let due = s.waiters.filter { $0.value.after < s.head }
            for id in due.keys { s.waiters[id] = nil }
            return due.values.map(\.resume)
        }
        ready.forEach { $0.resume() }
    }

    /// Returns once the head is beyond `revision`, or when the task is cancelled.
    public func wait(after revision: UInt64) async {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.head > revision || Task.isCancelled { return true }
                    s.waiters[id] = (revision, c)
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            let c = state.withLock { $0.waiters.removeValue(forKey: id) }
            c?.resume.resume()
        }
    }
}

/// One change seen by a watcher, with Kubernetes' watch semantics.
public struct WatchEvent: Sendable, Equatable {
    public enum Kind: String, Sendable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED" }
    public var type: Kind
    /// The revision of the write (the object's `resourceVersion`).
    public var revision: UInt64
    /// The object after the write (for DELETED: as it was last), with `resourceVersion` set.
    public var object: JSONValue

    public init(type: Kind, revision: UInt64, object: JSONValue) {
        self.type = type
        self.revision = revision
        self.object = object
    }
}

/// What a watcher wants: one kind, optionally one namespace, label and field selectors.
public struct WatchFilter: Sendable {
    public var kind: ResourceKind
    public var namespace: String?
    public var labels: LabelSelectorExpression?
    public var fields: FieldSelectorExpression?

    public init(kind: ResourceKind, namespace: String? = nil, labels: LabelSelectorExpression? = nil, fields: FieldSelectorExpression? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
    }

    var hasSelectors: Bool { !(labels?.isEmpty ?? true) || !(fields?.terms.isEmpty ?? true) }

    /// Whether the object (as JSON) passes the selectors.
    func matches(_ json: JSONValue) -> Bool {
        if let labels, !labels.isEmpty {
            let l = json["metadata"]?["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
            if !labels.matches(l) { return false }
        }
        if let fields, !fields.terms.isEmpty {
            guard let typed = try? kind.decode(json, strict: false) else { return false }
            if !fields.matches(typed.fieldValue) { return false }
        }
        return true
    }
}

/// The changes after a revision, read from the journal as the consumer asks for them: first what
/// is already committed, then, waiting on the Store's head, each new write. Nothing is buffered per
/// watcher, so a slow watcher costs writers nothing; it just reads further behind.
public struct WatchStream: AsyncSequence, Sendable {
    public typealias Element = WatchEvent
    let journal: Journal
    let signal: HeadSignal
    let filter: WatchFilter
    let from: UInt64
    let objects: RevisionCache<JSONValue>

    public func makeAsyncIterator() -> Iterator {
        Iterator(journal: journal, signal: signal, filter: filter, last: from, objects: objects)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let journal: Journal
        let signal: HeadSignal
        let filter: WatchFilter
        let objects: RevisionCache<JSONValue>
        var last: UInt64
        var buffer: [WatchEvent] = []
        var members: Set<ObjectKey>?

        init(journal: Journal, signal: HeadSignal, filter: WatchFilter, last: UInt64, objects: RevisionCache<JSONValue>) {
            self.journal = journal
            self.signal = signal
            self.filter = filter
            self.last = last
            self.objects = objects
        }

        public mutating func next() async throws -> WatchEvent? {
            try await fill()
            return buffer.removeFirst()
        }

        /// The next events, at least one and at most `limit`: as many as are already committed,
        /// so a watcher that is behind can take them in one piece.
        public mutating func next(upTo limit: Int) async throws -> [WatchEvent] {
            try await fill()
            let n = Swift.min(Swift.max(1, limit), buffer.count)
            defer { buffer.removeFirst(n) }
            return Array(buffer.prefix(n))
        }

        private mutating func fill() async throws {
            while buffer.isEmpty {
                try Task.checkCancellation()
                if members == nil, filter.hasSelectors { try loadMembers() }
                let head = signal.head
                if head > last {
                    try readChunk(upTo: Swift.min(head, last + 1000))
                } else {
                    await signal.wait(after: last)
                }
            }
        }

        /// Which objects matched the selectors at the starting revision.
        private mutating func loadMembers() throws {
            let filter = self.filter
            members = try journal.read { view in
                let start = try Projection.state(in: view, at: last)
                return Set(try start.list(filter.kind, namespace: filter.namespace).compactMap { o in
                    filter.matches(try o.json(in: view)) ? o.key : nil
                })
            }
        }

        private mutating func readChunk(upTo head: UInt64) throws {
            let events = try journal.read { try $0.events(in: (last + 1)...head) }
            for e in events {
                last = e.revision
                guard let type = WriteType(rawValue: e.type), e.object.kind == filter.kind.rawValue,
                      filter.namespace == nil || e.object.namespace == filter.namespace
                else { continue }
                // Parsed once for all watchers: an event's bytes never change.
                let json = try objects.value(for: e.revision) {
                    var json = try JSONValue.parse(e.data)
                    var meta = json["metadata"] ?? .object([:])
                    meta["resourceVersion"] = .string(String(e.revision))
                    json["metadata"] = meta
                    return json
                }
                let key = e.object.key
                let matches = type != .deleted && filter.matches(json)
                let wasMember = members.map { $0.contains(key) } ?? (type != .created)
                let kind: WatchEvent.Kind?
                switch (wasMember, matches) {
                case (false, true): kind = .added
                case (true, true): kind = .modified
                case (true, false): kind = .deleted
                case (false, false): kind = (type == .deleted && !filter.hasSelectors) ? .deleted : nil
                }
                if matches { members?.insert(key) } else { members?.remove(key) }
                if let kind { buffer.append(WatchEvent(type: kind, revision: e.revision, object: json)) }
            }
        }
    }
}

/// Values derived from recent events, by key (a revision, or a revision combined with a small
/// variant), shared between the watchers of one process so that work every watcher would repeat
/// for the same event is done once. Holds about `span` keys below the newest one; older keys are
/// computed again when asked for, not kept.
public final class RevisionCache<Value: Sendable>: Sendable {
    private struct State {
        var values: [UInt64: Value] = [:]
        var newest: UInt64 = 0
    }

    private let state = Mutex(State())
    let span: UInt64

    public init(span: UInt64 = 4096) { self.span = span }

    private func floor(_ newest: UInt64) -> UInt64 { newest > span ? newest - span : 0 }

    /// The value kept for `key`, else `make()`'s (kept unless it is already too old).
    public func value(for key: UInt64, _ make: () throws -> Value) rethrows -> Value {
        if let hit = state.withLock({ $0.values[key] }) { return hit }
        let made = try make()
        state.withLock { s in
            s.newest = max(s.newest, key)
            let floor = floor(s.newest)
            guard key > floor else { return }
            if UInt64(s.values.count) >= 2 * span { s.values = s.values.filter { $0.key > floor } }
            s.values[key] = made
        }
        return made
    }
}
