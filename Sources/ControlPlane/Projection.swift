import ClusterModel
import Journal

/// Rebuilding `ClusterState` from the journal: in full, at any past revision or time, with the help
/// of snapshots. Like the state, snapshots hold references (each object's key, uid, revisions and
/// index fields), so a snapshot of 100,000 objects is a few MiB, not the objects themselves.
public enum Projection {
    /// The state after folding every event up to `revision` (the head when nil), starting from the
    /// newest snapshot at or before it unless `useSnapshots` is false.
    public static func state(of journal: Journal, at revision: UInt64? = nil, useSnapshots: Bool = true) throws -> ClusterState {
        try journal.read { view in try state(in: view, at: revision, useSnapshots: useSnapshots) }
    }

    /// The state at the newest revision whose time is at or before `time` (empty if none).
    public static func state(of journal: Journal, atTime time: Timestamp) throws -> ClusterState {
        try journal.read { view in
            guard let rev = try view.revision(atOrBefore: time) else { return ClusterState() }
            return try state(in: view, at: rev, useSnapshots: true)
        }
    }

    /// As `state(of:at:)`, inside a read view the caller holds. With `kinds`, the state holds only
    /// objects of those kinds (what `kj get` of one kind needs): the others are neither restored from
    /// the snapshot nor folded, which matters when they are many (every core Event ever written).
    public static func state(in view: JournalView, at revision: UInt64?, useSnapshots: Bool = true,
                             only kinds: Set<ResourceKind>? = nil) throws -> ClusterState {
        let target = try revision ?? view.head().revision
        var state = ClusterState()
        if useSnapshots, let restored = try view.withSnapshot(atOrBefore: target, { _, bytes in try? SnapshotCodec.decode(bytes, only: kinds) }),
           let restored {
            state = restored
        }
        if state.revision < target {
            try view.forEachHeader(in: (state.revision + 1)...target) { header in
                state.apply(header, only: kinds)
                return true
            }
        }
        return state
    }

    /// One object as of `revision` — what `state(in:at:).object(key)` holds — from its own events in
    /// the `by_object` index, without rebuilding the state: the object's events since it was last
    /// created or removed are folded.
    public static func object(_ key: ObjectKey, at revision: UInt64, in view: JournalView) throws -> StoredObject? {
        let revisions = try view.history(of: key).prefix { $0 <= revision }
        // A creation or removal decides everything about the object after it: start there.
        var start = revisions.startIndex
        for i in revisions.indices.reversed() {
            var resets = false
            try view.forEachHeader(in: revisions[i]...revisions[i]) { h in
                resets = h.type == WriteType.created.rawValue || h.type == WriteType.deleted.rawValue
                return false
            }
            if resets { start = i; break }
        }
        var state = ClusterState()
        for rev in revisions[start...] {
            try view.forEachHeader(in: rev...rev) { h in
                state.apply(h)
                return false
            }
        }
        return state.object(key)
    }

    /// Folds the whole journal and stores a snapshot after every `interval` events (at revisions
    /// that are multiples of `interval`) that does not have one yet. Returns how many it wrote.
    @discardableResult
    public static func writeSnapshots(_ journal: Journal, every interval: UInt64) async throws -> Int {
        precondition(interval > 0)
        var written = 0
        var state = ClusterState()
        let head = try journal.head().revision
        var next = interval
        while next <= head {
            let upTo = next
            let (folded, exists) = try journal.read { view in
                var s = state
                if s.revision < upTo {
                    try view.forEachHeader(in: (s.revision + 1)...upTo) { h in s.apply(h); return true }
                }
                return (s, try view.snapshot(atOrBefore: upTo)?.revision == upTo)
            }
            state = folded
            if !exists {
                try await journal.putSnapshot(SnapshotCodec.encode(state), at: upTo)
                written += 1
            }
            next += interval
        }
        return written
    }
}

/// The snapshot format: references to events, not objects.
enum SnapshotCodec {
    static let magic: [UInt8] = Array("KJS1".utf8)

    static func encode(_ state: ClusterState) -> [UInt8] {
        var out = magic
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) } }
        func str(_ s: String) {
            u64(UInt64(s.utf8.count))
            out.append(contentsOf: s.utf8)
        }
        u64(state.revision)
        u64(UInt64(bitPattern: state.time.microseconds))
        // Sorting positions rather than the objects themselves keeps the sort from copying them.
        let objects = Array(state.objects.values)
        let order = objects.indices.sorted { objects[$0].key < objects[$1].key }
        u64(UInt64(objects.count))
        for o in order.lazy.map({ objects[$0] }) {
            str(o.kind.rawValue)
            str(o.key.namespace)
            str(o.key.name)
            str(o.uid)
            u64(o.revision)
            u64(o.createdRevision)
            str(o.nodeName ?? "")
            u64(UInt64(o.ownerUIDs.count))
            o.ownerUIDs.forEach(str)
        }
        return out
    }

    struct Invalid: Error {}

    private static let kindNames = ResourceKind.allCases.map { (name: Array($0.rawValue.utf8), kind: $0) }

    /// Decodes a snapshot in place; with `kinds`, objects of other kinds are skipped.
    static func decode(_ raw: UnsafeRawBufferPointer, only kinds: Set<ResourceKind>? = nil) throws -> ClusterState {
        var pos = 0
        func u64() throws -> UInt64 {
            guard pos + 8 <= raw.count else { throw Invalid() }
            defer { pos += 8 }
            return UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
        }
        /// A length that fits in what is left (checked as read: a damaged one can be any 64 bits).
        func length() throws -> Int {
            let n = try u64()
            guard n <= UInt64(raw.count - pos) else { throw Invalid() }
            return Int(n)
        }
        func str() throws -> String {
            let n = try length()
            defer { pos += n }
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw[pos..<pos + n]).assumingMemoryBound(to: UInt8.self), as: UTF8.self)
        }
        // The kind and whether it is wanted, read without making a string: every object's kind is
        // read, skipped or not, and most objects of a large state are skipped (core Events).
        let wanted = ResourceKind.allCases.map { kinds?.contains($0) ?? true }
        func kind() throws -> (ResourceKind, wanted: Bool) {
            let n = try length()
            defer { pos += n }
            let bytes = UnsafeRawBufferPointer(rebasing: raw[pos..<pos + n])
            for (i, k) in kindNames.enumerated() where k.name.count == n && k.name.elementsEqual(bytes) { return (k.kind, wanted[i]) }
            throw Invalid()
        }
        func skip(strings count: Int) throws {
            for _ in 0..<count { pos += try length() }
        }
        guard raw.starts(with: magic) else { throw Invalid() }
        pos = magic.count
        let revision = try u64()
        let time = Timestamp(microseconds: Int64(bitPattern: try u64()))
        let count = try u64()
        guard count < UInt64(raw.count) else { throw Invalid() }
        var objects: [StoredObject] = []
        if kinds == nil { objects.reserveCapacity(Int(count)) }
        for _ in 0..<count {
            let (kind, isWanted) = try kind()
            if !isWanted {
                // namespace, name, uid; revision, created revision; node; owners.
                try skip(strings: 3)
                guard raw.count - pos >= 16 else { throw Invalid() }
                pos += 16
                try skip(strings: 1)
                let owners = try u64()
                guard owners < UInt64(raw.count) else { throw Invalid() }
                try skip(strings: Int(owners))
                continue
            }
            let key = ObjectKey(kind: kind.rawValue, namespace: try str(), name: try str())
            let uid = try str()
            let rev = try u64(), created = try u64()
            let node = try str()
            let ownerCount = try u64()
            var owners: [String] = []
            if ownerCount > 0 {
                guard ownerCount < UInt64(raw.count) else { throw Invalid() }
                for _ in 0..<ownerCount { owners.append(try str()) }
            }
            objects.append(StoredObject(
                kind: kind, key: key, uid: uid, revision: rev, createdRevision: created,
                nodeName: node.isEmpty ? nil : node, ownerUIDs: owners))
        }
        return ClusterState(objects: objects, revision: revision, time: time)
    }
}
