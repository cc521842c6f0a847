import ClusterModel
import Journal
import Synchronization

/// One write as watchers see it: the stored object's bytes and, made at most once for every
/// watcher of the process, its watch lines.
public final class WatchEntry: Sendable {
    public let revision: UInt64
    public let type: WriteType
    public let object: ObjectRef
    /// The object as the journal stores it (no `resourceVersion`).
    let data: [UInt8]
    /// The JSON line of each watch event type, once asked for (ADDED, MODIFIED, DELETED).
    private let lines = Mutex<[[UInt8]?]>([nil, nil, nil])

    init(revision: UInt64, type: WriteType, object: ObjectRef, data: [UInt8]) {
        self.revision = revision
        self.type = type
        self.object = object
        self.data = data
    }

    /// The entry of a write event; nil for events that write no object (decisions, faults).
    convenience init?(_ event: Event) {
        guard let type = WriteType(rawValue: event.type) else { return nil }
        self.init(revision: event.revision, type: type, object: event.object, data: event.data)
    }

    /// The object, parsed, with `metadata.resourceVersion` set.
    public func json() throws -> JSONValue {
        try data.withUnsafeBytes { try VersionedJSON.value($0, revision: revision) }
    }

    /// The object's JSON as the API serves it (with `resourceVersion`).
    public func versionedJSON() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 32)
        data.withUnsafeBytes { VersionedJSON.append($0, revision: revision, to: &out) }
        return out
    }

    /// The object's labels, read in place.
    func labels() -> [String: String] {
        data.withUnsafeBytes { JSONSlice($0)?.labels ?? [:] }
    }

    /// `{"type":"ADDED","object":{…}}` and a newline: the stored bytes with `resourceVersion`
    /// spliced into the metadata, made once per type and shared by every watcher.
    public func line(_ watchType: WatchEvent.Kind) -> [UInt8] {
        let slot = switch watchType {
        case .added: 0
        case .modified: 1
        case .deleted: 2
        }
        if let made = lines.withLock({ $0[slot] }) { return made }
        let made = Self.line(watchType, data, revision: revision)
        lines.withLock { $0[slot] = made }
        return made
    }

    static func line(_ watchType: WatchEvent.Kind, _ data: [UInt8], revision: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 64)
        out += #"{"type":""#.utf8
        out += watchType.rawValue.utf8
        out += #"","object":"#.utf8
        data.withUnsafeBytes { VersionedJSON.append($0, revision: revision, to: &out) }
        out += "}\n".utf8
        return out
    }
}

/// A stored object's JSON as the API serves it — with `metadata.resourceVersion`, which the
/// journal does not store (it is the event's revision) — made from the stored bytes by splicing
/// the member in, not by parsing and serializing the object.
public enum VersionedJSON {
    /// Appends the object in `bytes` with `"resourceVersion":"REVISION"` as its metadata's first member.
    public static func append(_ bytes: UnsafeRawBufferPointer, revision: UInt64, to out: inout [UInt8]) {
        // Where the metadata object's first member goes: just after its `{`.
        if let metadata = JSONSlice(bytes)?["metadata"], let brace = metadata.objectStart {
            let insert = brace + 1
            out += bytes[..<insert]
            out += #""resourceVersion":""#.utf8
            out += String(revision).utf8
            out += (metadata.isEmptyObject ? #"""# : #"","#).utf8
            out += bytes[insert...]
            return
        }
        // No metadata object in the stored bytes (not written by the Store): rebuilt whole.
        out += ((try? value(bytes, revision: revision)) ?? ["metadata": ["resourceVersion": .string(String(revision))]]).serialized()
    }

    /// The object in `bytes`, parsed, with `metadata.resourceVersion` set.
    public static func value(_ bytes: UnsafeRawBufferPointer, revision: UInt64) throws -> JSONValue {
        var v = try JSONValue.parse(Array(bytes))
        var meta = v["metadata"] ?? .object([:])
        meta["resourceVersion"] = .string(String(revision))
        v["metadata"] = meta
        return v
    }
}

/// The newest writes the Store applied, shared by every watch of the process, as kube-apiserver's
/// watch cache: a ring of the last `capacity` write events. The Store appends each applied event
/// and never waits for a reader; each watcher reads the ring at its own pace (one lock per read,
/// however many events it takes). A watcher further behind than the ring reads the journal
/// instead — nothing is lost, which a server that keeps history only in memory cannot offer —
/// and comes back to the ring once it has caught up.
public final class WatchCache: Sendable {
    private struct Ring {
        /// Write entries in revision order.
        var entries: [WatchEntry] = []
        /// Every write after this revision, up to `head`, is in `entries`.
        var floor: UInt64
        /// The newest revision applied (of any event).
        var head: UInt64

        /// The index of the first entry after `revision` (`entries.count` if none).
        func firstIndex(after revision: UInt64) -> Int {
            var low = 0, high = entries.count
            while low < high {
                let mid = (low + high) / 2
                if entries[mid].revision <= revision { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }

    private let ring: Mutex<Ring>
    /// Write events kept.
    public let capacity: Int

    /// A cache that starts empty at revision `head` (the Store's when it opens); with a capacity
    /// of 0 it keeps nothing and every watcher behind the head reads the journal.
    public init(head: UInt64, capacity: Int = 10_000) {
        ring = Mutex(Ring(floor: head, head: head))
        self.capacity = max(0, capacity)
    }

    /// Adds an applied event (the Store's job, in revision order).
    func applied(_ event: Event) {
        let entry = WatchEntry(event)
        ring.withLock { r in
            r.head = max(r.head, event.revision)
            guard capacity > 0 else {
                r.floor = r.head
                return
            }
            guard let entry else { return }
            r.entries.append(entry)
            // Dropped in batches, so that appending costs O(1) on average.
            if r.entries.count >= capacity + capacity / 2 + 1 {
                let drop = r.entries.count - capacity
                r.floor = r.entries[drop - 1].revision
                r.entries.removeFirst(drop)
            }
        }
    }

    /// The write at `revision`, if the ring holds it.
    public func entry(at revision: UInt64) -> WatchEntry? {
        guard revision > 0 else { return nil }
        return ring.withLock { r in
            let i = r.firstIndex(after: revision - 1)
            return i < r.entries.count && r.entries[i].revision == revision ? r.entries[i] : nil
        }
    }

    /// The writes after `revision` (at most `limit`), and the revision through which nothing else
    /// was written; nil when the ring no longer holds every write after `revision`.
    public func writes(after revision: UInt64, limit: Int) -> (entries: ArraySlice<WatchEntry>, through: UInt64)? {
        ring.withLock { r in
            guard revision >= r.floor else { return nil }
            let low = r.firstIndex(after: revision)
            let end = min(r.entries.count, low + max(1, limit))
            let taken = r.entries[low..<end]
            let through = end < r.entries.count ? taken.last!.revision : r.head
            return (taken, max(revision, through))
        }
    }
}
