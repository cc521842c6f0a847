import CLMDB
import Foundation

/// Facts about a journal for `kj journal stat`, read in one consistent view.
public struct JournalStat: Sendable, Codable {
    public var path: String
    public var formatVersion: UInt32
    public var clusterID: String
    public var events: UInt64
    public var headRevision: UInt64
    public var headHash: String
    public var firstTime: String?
    public var headTime: String?
    public var indexedObjectEntries: Int
    /// Entries of the `by_cause` index: one per event per revision it names as cause or trigger.
    public var causeEntries: Int
    public var snapshots: Int
    public var latestSnapshotRevision: UInt64?
    /// The bytes of the pages in use (the data file may be larger: sparse, or holding free pages).
    public var usedBytes: Int
    public var mapBytes: Int
    public var maxMapBytes: Int
    public var readerSlotsInUse: Int
}

extension Journal {
    /// Counts and sizes, without scanning the events.
    public func stat() throws -> JournalStat {
        try read { view in
            let head = try view.head()
            let counts = try view.entryCounts()
            let first = try view.event(at: 1)
            let latestSnapshot = try view.snapshot(atOrBefore: head.revision)
            var info = MDB_envinfo()
            mdb_env_info(env, &info)
            var pages = MDB_stat()
            mdb_env_stat(env, &pages)
            return JournalStat(
                path: path, formatVersion: diskFormatVersion, clusterID: clusterID,
                events: UInt64(counts.events), headRevision: head.revision, headHash: head.hash.hex,
                firstTime: first?.time.rfc3339, headTime: head.revision > 0 ? head.time.rfc3339 : nil,
                indexedObjectEntries: counts.byObject, causeEntries: counts.byCause, snapshots: counts.snapshots,
                latestSnapshotRevision: latestSnapshot?.revision, usedBytes: (info.me_last_pgno + 1) * Int(pages.ms_psize),
                mapBytes: info.me_mapsize, maxMapBytes: max(options.maxMapSize, info.me_mapsize),
                readerSlotsInUse: Int(info.me_numreaders))
        }
    }
}
