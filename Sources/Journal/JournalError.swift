/// An error from the journal, readable as it stands.
///
/// `code` says what kind of failure it is (compare with `JournalError.Code.journalFull` …);
/// `message` is a complete sentence for a person; `underlying` keeps the lower-level cause.
/// LMDB's own return codes never reach callers: they are translated here.
public struct JournalError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String, Sendable {
            case notAJournal = "not a journal"
            case noJournal = "no journal"
            case formatTooNew = "format too new"
            case corrupted = "corrupted"
            case truncated = "truncated"
            case chainBroken = "chain broken"
            case noSpace = "no space"
            case journalFull = "journal full"
            case permissionDenied = "permission denied"
            case readOnly = "read-only"
            case alreadyOpen = "already open"
            case invalidEvent = "invalid event"
            case chainMismatch = "chain mismatch"
            case notEmpty = "not empty"
            case closed = "closed"
            case io = "i/o error"
        }
        fileprivate let value: Value
        fileprivate init(_ value: Value) { self.value = value }

        /// The directory exists but holds something other than a journal.
        public static let notAJournal = Code(.notAJournal)
        /// A read-only open found no journal at the path.
        public static let noJournal = Code(.noJournal)
        /// The journal was written by a newer KubeJournal (higher format version).
        public static let formatTooNew = Code(.formatTooNew)
        /// A stored record cannot be decoded; `revision` names it.
        public static let corrupted = Code(.corrupted)
        /// The data file is shorter than its meta pages say: pages the journal uses are missing.
        public static let truncated = Code(.truncated)
        /// A writable open found that the hash chain does not verify from the last verified point;
        /// `revision` is the first bad one. Nothing was appended.
        public static let chainBroken = Code(.chainBroken)
        /// A write failed for lack of disk space. Nothing of it was written; reads go on, and a later
        /// write succeeds once space returns (`Journal.isOutOfSpace` says which state it is in).
        public static let noSpace = Code(.noSpace)
        /// The map reached its maximum size.
        public static let journalFull = Code(.journalFull)
        /// The operating system refused access to the journal's files.
        public static let permissionDenied = Code(.permissionDenied)
        /// A write was attempted on a journal opened read-only.
        public static let readOnly = Code(.readOnly)
        /// This process already has the journal open (LMDB forbids a second handle).
        public static let alreadyOpen = Code(.alreadyOpen)
        /// An event was refused before it was written (bad field, not JSON …).
        public static let invalidEvent = Code(.invalidEvent)
        /// Imported events do not form the hash chain they claim.
        public static let chainMismatch = Code(.chainMismatch)
        /// An import target already holds events.
        public static let notEmpty = Code(.notEmpty)
        /// The journal was closed.
        public static let closed = Code(.closed)
        /// Any other failure of the storage layer.
        public static let io = Code(.io)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String
    /// The revision the error is about, where there is one.
    public var revision: UInt64?
    /// The lower-level error, for logs.
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, revision: UInt64? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.revision = revision
        self.underlying = underlying
    }

    public var description: String { message }
}

/// An LMDB return code with LMDB's own text, kept as `JournalError.underlying`.
public struct LMDBStatus: Error, CustomStringConvertible, Sendable {
    public let rawValue: Int32
    public let text: String
    public var description: String { "LMDB \(rawValue): \(text)" }
}
