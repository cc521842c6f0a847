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
    private let source: Source

    private enum Source: Sendable {
        case stored(WatchEntry)
        case value(JSONValue)
    }

    /// A change whose object is `object` (with `resourceVersion` set).
    public init(type: Kind, revision: UInt64, object: JSONValue) {
        self.type = type
        self.revision = revision
        source = .value(object)
    }

    /// A change to the object a write stored.
    init(type: Kind, entry: WatchEntry) {
        self.type = type
        revision = entry.revision
        source = .stored(entry)
    }

    /// The object after the write (for DELETED: as it was last), with `resourceVersion` set.
    public func object() throws -> JSONValue {
        switch source {
        case .stored(let entry): try entry.json()
        case .value(let v): v
        }
    }

    /// Events are equal when they say the same: their type, revision and line.
    public static func == (a: WatchEvent, b: WatchEvent) -> Bool { a.type == b.type && a.revision == b.revision && a.line == b.line }

    /// The event's line in a JSON watch response (shared by every watcher of a stored write).
    public var line: [UInt8] {
        switch source {
        case .stored(let entry): entry.line(type)
        case .value(let v): (["type": .string(type.rawValue), "object": v] as JSONValue).serialized() + [UInt8(ascii: "\n")]
        }
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

    /// Whether an object passes the selectors: its labels as read in place, the object itself
    /// parsed only for a field selector.
    func matches(labels objectLabels: () -> [String: String], object: () throws -> JSONValue) -> Bool {
        if let labels, !labels.isEmpty, !labels.matches(objectLabels()) { return false }
        if let fields, !fields.terms.isEmpty {
            guard let typed = try? kind.decode(try object(), strict: false) else { return false }
            if !fields.matches(typed.fieldValue) { return false }
        }
        return true
    }
}

/// The changes after a revision, as the consumer asks for them: from the process's `WatchCache`
/// while it still holds them, else from the journal (a watcher far behind, or one that starts from
/// long ago), then, waiting on the Store's head, each new write. Nothing is buffered per watcher, so
/// a slow watcher costs writers nothing; it just reads further behind.
public struct WatchStream: AsyncSequence, Sendable {
    public typealias Element = WatchEvent
    let journal: Journal
    let signal: HeadSignal
    let cache: WatchCache
    let filter: WatchFilter
    let from: UInt64

    public func makeAsyncIterator() -> Iterator {
        Iterator(journal: journal, signal: signal, cache: cache, filter: filter, last: from)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let journal: Journal
        let signal: HeadSignal
        let cache: WatchCache
        let filter: WatchFilter
        var last: UInt64
        var buffer: [WatchEvent] = []
        var members: Set<ObjectKey>?

        init(journal: Journal, signal: HeadSignal, cache: WatchCache, filter: WatchFilter, last: UInt64) {
            self.journal = journal
            self.signal = signal
            self.cache = cache
            self.filter = filter
            self.last = last
        }

        public mutating func next() async throws -> WatchEvent? {
            try await fill()
            return buffer.removeFirst()
        }

        /// Every change already applied, at least one and at most `limit`: a watcher that is behind
        /// takes them in one piece.
        public mutating func next(upTo limit: Int) async throws -> [WatchEvent] {
            try await fill(limit)
            let n = Swift.min(Swift.max(1, limit), buffer.count)
            defer { buffer.removeFirst(n) }
            return Array(buffer.prefix(n))
        }

        private mutating func fill(_ limit: Int = 1000) async throws {
            while buffer.isEmpty {
                try Task.checkCancellation()
                if members == nil, filter.hasSelectors { try loadMembers() }
                let head = signal.head
                if head > last {
                    if let (entries, through) = cache.writes(after: last, limit: limit) {
                        take(entries)
                        last = through
                    } else {
                        try readJournal(upTo: Swift.min(head, last + 1000))
                    }
                } else {
                    await signal.wait(after: last)
                }
            }
        }

        /// Which objects matched the selectors at the starting revision.
        private mutating func loadMembers() throws {
            let filter = self.filter
            members = try journal.read { view in
                let start = try Projection.state(in: view, at: last, only: [filter.kind])
                return Set(try start.list(filter.kind, namespace: filter.namespace).compactMap { o in
                    let labels = try o.withStoredJSON(in: view) { $0.labels }
                    return filter.matches(labels: { labels }, object: { try o.json(in: view) }) ? o.key : nil
                })
            }
        }

        /// The writes of events the cache no longer (or never) held.
        private mutating func readJournal(upTo head: UInt64) throws {
            let events = try journal.read { try $0.events(in: (last + 1)...head) }
            take(events.lazy.compactMap(WatchEntry.init))
            last = Swift.max(last, head)
        }

        /// The changes among `entries` this watcher sees, with Kubernetes' watch types.
        private mutating func take(_ entries: some Sequence<WatchEntry>) {
            for entry in entries {
                guard entry.object.kind == filter.kind.rawValue, filter.namespace == nil || entry.object.namespace == filter.namespace else { continue }
                let key = entry.object.key
                let matches = entry.type != .deleted && filter.matches(labels: entry.labels, object: entry.json)
                let wasMember = members.map { $0.contains(key) } ?? (entry.type != .created)
                let kind: WatchEvent.Kind?
                switch (wasMember, matches) {
                case (false, true): kind = .added
                case (true, true): kind = .modified
                case (true, false): kind = .deleted
                case (false, false): kind = (entry.type == .deleted && !filter.hasSelectors) ? .deleted : nil
                }
                if matches { members?.insert(key) } else { members?.remove(key) }
                if let kind { buffer.append(WatchEvent(type: kind, entry: entry)) }
            }
        }
    }
}

