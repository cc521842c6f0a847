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

    public func makeAsyncIterator() -> Iterator {
        Iterator(journal: journal, signal: signal, filter: filter, last: from)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let journal: Journal
        let signal: HeadSignal
        let filter: WatchFilter
        var last: UInt64
        var buffer: [WatchEvent] = []
        var members: Set<ObjectKey>?

        init(journal: Journal, signal: HeadSignal, filter: WatchFilter, last: UInt64) {
            self.journal = journal
            self.signal = signal
            self.filter = filter
            self.last = last
        }

        public mutating func next() async throws -> WatchEvent? {
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
            return buffer.removeFirst()
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
                var json = try JSONValue.parse(e.data)
                var meta = json["metadata"] ?? .object([:])
                meta["resourceVersion"] = .string(String(e.revision))
                json["metadata"] = meta
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
