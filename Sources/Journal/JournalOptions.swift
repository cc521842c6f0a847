/// How to open a journal.
public struct JournalOptions: Sendable {
    /// When a write returns.
    public enum Durability: Sendable {
        /// After the transaction is flushed to disk (`fsync`). The default, and the only mode for real use.
        case sync
        /// After the transaction is in the operating system's cache: survives a process crash, not a
        /// power loss. For tests, benchmarks and simulations. Pages are written through a writable map
        /// (`MDB_WRITEMAP`), which saves a copy and a system call per page; the data file is then as
        /// large as the map, sparse.
        case noSync
    }

    /// Open for reading only: any number of such processes may read while one process writes.
    public var readOnly: Bool
    /// The map size a new journal starts with, in bytes. The map grows by itself as needed.
    public var initialMapSize: Int
    /// The largest the map may grow to, in bytes; beyond it, appends fail with `.journalFull`.
    public var maxMapSize: Int
    public var durability: Durability
    /// The cluster id written into a new journal; a random UUID when nil.
    public var clusterID: String?
    /// What a writable open does when the hash chain does not verify from the last verified point.
    public var brokenChain: BrokenChain

    /// What a writable open does with a broken hash chain (see `Journal.open`).
    public enum BrokenChain: Sendable, Equatable {
        /// Refuse to open it (`JournalError.Code.chainBroken`, naming the first bad revision). The default.
        case refuse
        /// Open it anyway: the journal appends one `ChainBreakAccepted` event by `actor` per bad
        /// revision (see `journal/EVENTS.md`) and moves its verified point past them.
        case accept(actor: Actor)
    }

    public init(
        readOnly: Bool = false,
        initialMapSize: Int = 64 << 20,
        maxMapSize: Int = 64 << 30,
        durability: Durability = .sync,
        clusterID: String? = nil,
        brokenChain: BrokenChain = .refuse
    ) {
        self.readOnly = readOnly
        self.initialMapSize = initialMapSize
        self.maxMapSize = maxMapSize
        self.durability = durability
        self.clusterID = clusterID
        self.brokenChain = brokenChain
    }

    /// These options, but opening a journal whose hash chain is broken, on `actor`'s word: the
    /// acceptance is recorded in the journal itself.
    public func acceptingBrokenChain(actor: Actor) -> JournalOptions {
        var o = self
        o.brokenChain = .accept(actor: actor)
        return o
    }

    /// Read-only defaults, for query processes.
    public static let reader = JournalOptions(readOnly: true)
}
